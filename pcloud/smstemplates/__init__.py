"""短信模板 (SMS templates): the wording of the texts the SMS sender sends, editable without a deploy."""
