// Landmarks: parse.ts (entry points), options.ts (the model + defaults), push.ts (PUSH_REPLY),
// lexer.ts (openvpn's tokenizer). Everything else is internal to the parser.
export { OvpnConfigError, OVPN_ERR_CONFIG, formatPos } from './errors.js';
export type { ConfigWarning, SourcePos } from './errors.js';
export { lexConfig, tokenizeLine, MAX_TOKENS, MAX_TOKEN_BYTES } from './lexer.js';
export type { ConfigLine, LexResult, TokenizedLine } from './lexer.js';
export { DEFAULTS, SUPPORTED_DATA_CIPHERS, SUPPORTED_DIGESTS } from './options.js';
export type * from './options.js';
export { loadConfigFile, parseArgv, parseConfigText } from './parse.js';
export type { ConfigFileReader, ParseOptions, ParsedConfig } from './parse.js';
export {
  continuationOf,
  matchPullFilter,
  mergePushParts,
  parsePushOptions,
  parsePushReply,
  PushReplyCollector,
  splitPushReply,
  MAX_PUSH_BYTES,
  MAX_PUSH_PARTS,
} from './push.js';
export type {
  PushLocalOptions,
  PushParseResult,
  PushedDnsServer,
  PushedOptions,
  PushedRoute,
  ProtocolFlags,
} from './push.js';
