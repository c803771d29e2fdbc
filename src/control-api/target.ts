// ControlTarget: what the engine implements (one async method per command, taking validated,
// typed arguments), and ControlApi: the gate every caller goes through (library or socket).
//
//   caller ──raw args──> ControlApi.execute ──(known command? validate? mode ok?)──> target.<cmd>(args)
//
// ControlApi owns the mode state machine, so the engine never sees an invalid or wrong-mode call:
//   start: p2p, not locked ── setMode(x) ──> x, locked ── setMode again ──> ALREADY_INITIALIZED
//   the first successful mode-specific command also locks the mode (setMode after newPeer fails).

import {
  commandMode,
  isCommandName,
  validateArgs,
  type CommandArgs,
  type CommandName,
  type CommandResult,
  type ControlEvent,
  type ControlPacket,
  type Mode,
} from './schema.js';
import { ControlApiError, ErrorCode, isOvpnError } from '../util/errors.js';

/** One async handler per command. Handlers may throw ControlApiError (e.g. OVPN_ERR_NO_PEER). */
export type CommandHandlers = {
  [C in CommandName]: (args: CommandArgs<C>) => Promise<CommandResult<C>>;
};

/** The engine side of the control API. */
export interface ControlTarget extends CommandHandlers {
  /** Subscribe to the event stream; returns the unsubscribe function. */
  onEvent(listener: (event: ControlEvent) => void): () => void;
  /** Subscribe to received control packets (ReadFile); returns the unsubscribe function. */
  onControlPacket(listener: (packet: ControlPacket) => void): () => void;
}

export class ControlApi {
  private currentMode: Mode = 'p2p';
  private locked = false;

  constructor(readonly target: ControlTarget) {}

  get mode(): Mode {
    return this.currentMode;
  }

  /** Typed entry point for library callers. */
  call<C extends CommandName>(
    cmd: C,
    args: CommandArgs<C> | Record<string, never>,
  ): Promise<CommandResult<C>> {
    return this.execute(cmd, args) as Promise<CommandResult<C>>;
  }

  /** Untyped entry point (JSON): checks the name, validates, enforces the mode, then dispatches. */
  async execute(cmd: string, rawArgs: unknown): Promise<unknown> {
    if (!isCommandName(cmd)) {
      throw new ControlApiError(
        ErrorCode.UNKNOWN_COMMAND,
        `unknown command "${cmd}"; run "ovpn-ts help" for the list of commands`,
        'cmd',
      );
    }
    const args = validateArgs(cmd, rawArgs, this.currentMode);
    if (cmd === 'setMode') return this.setMode(args as CommandArgs<'setMode'>);
    this.checkMode(cmd);
    const result = await this.dispatch(cmd, args);
    if (commandMode(cmd) !== 'any') this.locked = true;
    return result;
  }

  private checkMode(cmd: CommandName): void {
    const need = commandMode(cmd);
    if (need === 'any' || need === this.currentMode) return;
    const fix =
      need === 'mp'
        ? 'call setMode {"mode":"mp"} first'
        : `use the mp${cmd[0]!.toUpperCase()}${cmd.slice(1)} command`;
    throw new ControlApiError(
      ErrorCode.BAD_MODE,
      `${cmd}: only valid in ${need} mode, but the device is in ${this.currentMode} mode; ${fix}`,
      'cmd',
    );
  }

  private async setMode(args: CommandArgs<'setMode'>): Promise<void> {
    if (this.locked) {
      throw new ControlApiError(
        ErrorCode.ALREADY_INITIALIZED,
        `setMode: the mode is already ${this.currentMode}; setMode may be called once, before other configuration (restart to change it)`,
        'setMode.mode',
      );
    }
    await this.target.setMode(args);
    this.currentMode = args.mode;
    this.locked = true;
  }

  private async dispatch(cmd: CommandName, args: unknown): Promise<unknown> {
    const handler = this.target[cmd] as (a: unknown) => Promise<unknown>;
    try {
      return await handler.call(this.target, args);
    } catch (e) {
      if (isOvpnError(e)) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      throw new ControlApiError(ErrorCode.INTERNAL, `${cmd}: engine error: ${msg}`, '', { cause: e });
    }
  }
}
