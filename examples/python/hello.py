"""`GET /py/hello?name=Ada`: a greeting from Python, counting visits in the
action's cache. Fusio builds this module into a component with
componentize-py when it is deployed; nothing else is needed."""

import fusio


def handle(request, context, connector, response, dispatcher, logger):
    name = request.get("name", "World")
    visits = fusio.cache.incr("visits")
    logger.info("greeted", name=name, visits=visits)
    greeting = context.config.get("greeting", "Hello")
    return response.build(200, {}, {"message": f"{greeting} {name}!", "visits": visits})
