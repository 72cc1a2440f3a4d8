/** Every ICWS error class (one per file under errors/). */
export { IcwsError } from './errors/icws-error.js';
export { IcwsUnauthorizedError } from './errors/unauthorized-error.js';
export { IcwsAuthenticationError } from './errors/authentication-error.js';
export { IcwsUnavailableError } from './errors/unavailable-error.js';
export { IcwsGoneError } from './errors/gone-error.js';
export { IcwsConfigError } from './errors/config-error.js';
export { IcwsNetworkError } from './errors/network-error.js';
export { IcwsRedirectError } from './errors/redirect-error.js';
