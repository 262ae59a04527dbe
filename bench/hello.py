"""The hello action of examples/hello in Python, for bench/run and the
components bench: `GET /py/hello?name=Ada` answers the same greeting."""


def handle(request, context, connector, response, dispatcher, logger):
    name = request.get("name", "World")
    greeting = context.config.get("greeting", "Hello")
    return response.build(200, {}, {"message": f"{greeting} {name}!"})
