// The channel dialog's form, from a saved channel and back to the body the API takes, per kind.
import type { Schemas } from '@/api/client'

export type Channel = Schemas['ChannelPublic']
export type ChannelCreate = Schemas['ChannelCreate']
export type ChannelUpdate = Schemas['ChannelUpdate']
export type Kind = ChannelCreate['kind']
export type Security = 'starttls' | 'tls' | 'none'

export const KINDS: Kind[] = ['webhook', 'slack', 'dingtalk', 'feishu', 'wecom', 'email']
/** The kinds that take a secret: a signing secret, or the SMTP password for e-mail.
 *  Slack's and WeCom's URL is itself the secret. */
export const SECRET_KINDS: Kind[] = ['webhook', 'dingtalk', 'feishu', 'email']
export const SECURITIES: Security[] = ['starttls', 'tls', 'none']
/** The port the server picks when none is given. */
export const PORTS: Record<Security, number> = { starttls: 587, tls: 465, none: 25 }
/** What each vendor's URL looks like (placeholders: URLs read the same in every language). */
export const URL_EXAMPLES: Record<Exclude<Kind, 'email'>, string> = {
  webhook: 'https://ci.example.com/hooks/testyard',
  slack: 'https://hooks.slack.com/services/T000/B000/XXXX',
  dingtalk: 'https://oapi.dingtalk.com/robot/send?access_token=…',
  feishu: 'https://open.feishu.cn/open-apis/bot/v2/hook/…',
  wecom: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…',
}

export interface ChannelForm {
  name: string
  kind: Kind
  url: string
  /** A new secret; empty keeps the stored one (see `clearSecret`). */
  secret: string
  /** Remove the stored secret on save. */
  clearSecret: boolean
  enabled: boolean
  host: string
  port: number | null
  security: Security
  username: string
  sender: string
  /** Addresses, one per line (commas and semicolons also separate). */
  recipients: string
  verify_tls: boolean
  ca_pem: string
}

export function takesSecret(kind: Kind): boolean {
  return SECRET_KINDS.includes(kind)
}

export function isKind(value: string): value is Kind {
  return (KINDS as string[]).includes(value)
}

export function emptyChannelForm(kind: Kind = 'webhook'): ChannelForm {
  return {
    name: '',
    kind,
    url: '',
    secret: '',
    clearSecret: false,
    enabled: true,
    host: '',
    port: null,
    security: 'starttls',
    username: '',
    sender: '',
    recipients: '',
    verify_tls: true,
    ca_pem: '',
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

export function channelToForm(channel: Channel): ChannelForm {
  const config = channel.config ?? {}
  const security = text(config.security)
  const recipients = Array.isArray(config.recipients) ? config.recipients.map(String) : []
  const known = (SECURITIES as string[]).includes(security) ? (security as Security) : 'starttls'
  const port = typeof config.port === 'number' ? config.port : null
  return {
    ...emptyChannelForm(isKind(channel.kind) ? channel.kind : 'webhook'),
    name: channel.name,
    url: channel.url,
    enabled: channel.enabled,
    host: text(config.host),
    // The server fills in the usual port: shown empty, it follows a change of security.
    port: port === PORTS[known] ? null : port,
    security: known,
    username: text(config.username),
    sender: text(config.sender),
    recipients: recipients.join('\n'),
    verify_tls: config.verify_tls !== false,
    ca_pem: text(config.ca_pem),
  }
}

/** The addresses of the recipients box, in order, without blanks. */
export function splitRecipients(value: string): string[] {
  return value
    .split(/[\n,;]+/)
    .map((one) => one.trim())
    .filter(Boolean)
}

/** What the kind keeps in `config`: the SMTP settings for e-mail, nothing for chat kinds. */
export function formConfig(form: ChannelForm): Record<string, unknown> {
  if (form.kind !== 'email') return {}
  return {
    host: form.host.trim(),
    port: form.port || null,
    security: form.security,
    username: form.username.trim(),
    sender: form.sender.trim(),
    recipients: splitRecipients(form.recipients),
    verify_tls: form.verify_tls,
    ca_pem: form.ca_pem.trim() ? form.ca_pem : '',
  }
}

/** The body of a new channel. */
export function formToCreate(form: ChannelForm): ChannelCreate {
  return {
    name: form.name.trim(),
    kind: form.kind,
    url: form.kind === 'email' ? '' : form.url.trim(),
    secret: takesSecret(form.kind) ? form.secret : '',
    config: formConfig(form),
    enabled: form.enabled,
  }
}

/** The PATCH of a saved channel: the URL only when changed (the API shows it masked); the
 *  secret only when typed (a new one) or removed. Another kind's secret does not fit (a
 *  signing secret is no SMTP password): changing the kind removes it unless one is typed. */
export function formToUpdate(form: ChannelForm, saved: Channel): ChannelUpdate {
  const body: ChannelUpdate = {
    name: form.name.trim(),
    kind: form.kind,
    config: formConfig(form),
    enabled: form.enabled,
  }
  const url = form.kind === 'email' ? '' : form.url.trim()
  if (url !== saved.url) body.url = url
  if (takesSecret(form.kind) && form.secret) body.secret = form.secret
  else if (saved.secret_set && (form.clearSecret || !takesSecret(form.kind) || form.kind !== saved.kind)) body.secret = ''
  return body
}

/** Fields the dialog shows an error next to (the API names `config.host` etc.; the last part counts). */
export const CHANNEL_FIELDS = [
  'name', 'kind', 'url', 'secret', 'host', 'port', 'security', 'username', 'sender', 'recipients',
  'verify_tls', 'ca_pem',
]
