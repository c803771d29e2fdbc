// A minimal OpenVPN-2.6-like server for in-memory tests: the ControlSession in its server role
// plus the push policy of §E (answer PUSH_REQUEST with the configured options, push unprompted
// when the client's IV_PROTO has REQUEST_PUSH, or answer with a fixed control message instead).
import {
  ControlSession,
  type ControlEvent,
  type ControlSessionOptions,
} from '../../../src/protocol/control/session.js';
import { IvProto, buildOptionsString, parsePeerInfo } from '../../../src/protocol/control/key-method2.js';
import { buildPushReplyParts } from '../../../src/protocol/control/messages.js';

export interface MiniServerOptions extends Omit<ControlSessionOptions, 'role' | 'sink' | 'options'> {
  pushOptions: string[];
  /** Send this control message instead of PUSH_REPLY (e.g. an AUTH_FAILED variant). */
  replyInstead?: string;
  /** Ignore PUSH_REQUEST (to observe the client's repeats). */
  silent?: boolean;
  send: (wire: Buffer) => void;
}

export class MiniServer {
  readonly session: ControlSession;
  readonly events: ControlEvent[] = [];
  pushRequests = 0;
  private pushed = false;

  constructor(private readonly opts: MiniServerOptions) {
    this.session = new ControlSession({
      ...opts,
      role: 'server',
      options: buildOptionsString({ role: 'server' }),
      sink: { send: opts.send, event: (e) => this.onEvent(e) },
    });
  }

  private onEvent(e: ControlEvent): void {
    this.events.push(e);
    if (e.type === 'push-request') {
      this.pushRequests++;
      this.answer();
    } else if (e.type === 'key-ready' && e.keyId === 0) {
      const proto = Number(parsePeerInfo(e.peerInfo).get('IV_PROTO') ?? '0');
      if ((proto & IvProto.REQUEST_PUSH) !== 0) this.answer();
    }
  }

  private answer(): void {
    if (this.opts.silent === true) return;
    if (this.opts.replyInstead !== undefined) {
      this.session.sendControlMessage(this.opts.replyInstead);
      return;
    }
    if (this.pushed) return; // 2.6 ignores repeats for 30 s
    this.pushed = true;
    this.session.sendPushReply(buildPushReplyParts(this.opts.pushOptions));
  }
}
