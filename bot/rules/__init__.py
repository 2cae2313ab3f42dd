"""Domain rules of the petition intake: plain functions, no Rasa, no database.

Modules: text (normalization), checks (the result type), idcard, phone, masking,
numbers (people counts), petition (form fields), categories, jurisdiction (places and
routing) and deadlines (time limits of the 信访工作条例).
"""
