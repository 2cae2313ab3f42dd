"""Domain rules of the petition intake and of the case workflow: plain functions and tables,
no Rasa, no database, no web.

The petition: fields (the one field table), text (normalization), checks and messages (results
and their texts), idcard, documents, phone, masking, numbers (people counts), petition (answers
in free text), categories, case_numbers, cn_dates, safety (emergencies), procedures (matters for
another lawful procedure). The agency: jurisdiction (places and routing), deadlines and
time_limits (the limits of the 信访工作条例), statuses, workflow (the staff's state machine) and
roles (who may do what).
"""
