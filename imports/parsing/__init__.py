"""Reading import files: streaming readers per format (readers.py) and mapping of records to rows (rows.py).

Nothing here touches the database; labeling.services.imports does the writing.
"""
