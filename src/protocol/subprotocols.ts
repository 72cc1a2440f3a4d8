/**
 * The WebSocket subprotocols of the endpoint (README, "The WebSocket protocol", Auth): a browser cannot set headers
 * on an upgrade, so it offers `icwatch.v1` and `icwatch.bearer.<base64url of the token, no padding>`; the server
 * selects `icwatch.v1` and never echoes the token's.
 */

/** The subprotocol of the protocol. */
export const PROTOCOL = 'icwatch.v1';

/** The prefix of the subprotocol that carries the token. */
export const BEARER_PROTOCOL_PREFIX = 'icwatch.bearer.';
