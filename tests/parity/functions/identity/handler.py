def handler(event, context):  # answers with its event
    return event
