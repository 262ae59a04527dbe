"""GET /hello?name=Ada answers {"message": "Hello Ada!"}."""


def handle(request, context, connector, response, dispatcher, logger):
    name = request.get("name", "World")
    greeting = context.config.get("greeting", "Hello")
    return response.build(200, {}, {"message": f"{greeting} {name}!"})
