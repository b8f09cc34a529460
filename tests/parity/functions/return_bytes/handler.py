def handler(event, context):  # bytes: the runtime sends them as they are (here, a JSON string)
    return b'"HelloWorld!"'
