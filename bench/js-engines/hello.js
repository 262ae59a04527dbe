// The hello action in JavaScript, compiled into the component with the
// engine (the script is evaluated once, when the component is built).
const utf8 = (text) => Uint8Array.from(unescape(encodeURIComponent(text)), (c) => c.charCodeAt(0));

export const handler = {
  handle(request) {
    const name = (request.query.find(([key]) => key === 'name') || [null, 'World'])[1];
    const body = JSON.stringify({ message: `Hello ${name}!` });
    return { status: 200, headers: [['content-type', 'application/json']], body: utf8(body) };
  },
};
