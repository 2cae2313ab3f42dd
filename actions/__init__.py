"""Custom actions of the petition assistant (rasa-sdk action server)."""
