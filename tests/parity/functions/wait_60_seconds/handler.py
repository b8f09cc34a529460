import time


def handler(event, context):  # outlives any task timeout shorter than a minute
    time.sleep(60)
    return event
