// GET /hello?name=Ada answers {"message": "Hello Ada!"}.
module.exports = async function (request, context, connector, response, dispatcher, logger) {
  const name = request.get("name") || "World";
  const greeting = context.config.greeting || "Hello";
  return response.build(200, {}, { message: `${greeting} ${name}!` });
};
