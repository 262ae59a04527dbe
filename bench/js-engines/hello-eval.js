// The engine with a loader instead of the action: each request evaluates
// the script the action's config holds (`script`), as one engine component
// serving every script would.
import { get } from 'fusio:action/config@0.1.0';

const utf8 = (text) => Uint8Array.from(unescape(encodeURIComponent(text)), (c) => c.charCodeAt(0));

export const handler = {
  handle(request) {
    const module = { exports: null };
    new Function('module', get('script'))(module);
    const name = (request.query.find(([key]) => key === 'name') || [null, 'World'])[1];
    return { status: 200, headers: [['content-type', 'application/json']], body: utf8(String(module.exports(name))) };
  },
};
