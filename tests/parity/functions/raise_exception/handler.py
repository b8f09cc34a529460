def handler(event, context):  # the raise stays on line 2: the recorded stack trace names it
    raise Exception("Some exception was raised.")
