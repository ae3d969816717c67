import { describe, expect, it } from 'vitest'
import {
  channelToForm,
  emptyChannelForm,
  formToCreate,
  formToUpdate,
  KINDS,
  splitRecipients,
  takesSecret,
  type Channel,
  type ChannelForm,
} from '@/channels/form'

function saved(fields: Partial<Channel>): Channel {
  return {
    id: 3,
    name: 'Team hook',
    kind: 'webhook',
    url: 'https://ci.example.com/hook?token=***',
    secret_set: false,
    config: {},
    enabled: true,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    ...fields,
  }
}

const smtp: Channel = saved({
  kind: 'email',
  url: '',
  secret_set: true,
  config: {
    host: 'smtp.example.com',
    port: 465,
    security: 'tls',
    username: 'qa-bot',
    sender: 'testyard <qa@example.com>',
    recipients: ['a@example.com', 'Bea <b@example.com>'],
    verify_tls: false,
    ca_pem: '',
  },
})

function form(fields: Partial<ChannelForm>): ChannelForm {
  return { ...emptyChannelForm(), ...fields }
}

describe('formToCreate', () => {
  it('sends a chat kind its URL and signing secret, and no config', () => {
    const body = formToCreate(form({ name: ' Hook ', kind: 'dingtalk', url: ' https://oapi.dingtalk.com/robot/send?access_token=abc ', secret: 'SEC123' }))
    expect(body).toEqual({
      name: 'Hook',
      kind: 'dingtalk',
      url: 'https://oapi.dingtalk.com/robot/send?access_token=abc',
      secret: 'SEC123',
      config: {},
      enabled: true,
    })
  })

  it('sends no secret to the kinds whose URL is the secret', () => {
    for (const kind of ['slack', 'wecom'] as const) {
      expect(formToCreate(form({ kind, url: 'https://x.example/h', secret: 'typed before' })).secret).toBe('')
      expect(takesSecret(kind)).toBe(false)
    }
  })

  it('sends e-mail its SMTP settings in config, the password as the secret, and no URL', () => {
    const body = formToCreate(
      form({
        name: 'QA mail',
        kind: 'email',
        url: 'left from another kind',
        host: ' smtp.example.com ',
        port: null,
        security: 'starttls',
        username: 'bot',
        secret: 'app-password',
        sender: 'qa@example.com',
        recipients: 'a@example.com\n b@example.com, c@example.com;\n\n',
        verify_tls: true,
        ca_pem: '  ',
      }),
    )
    expect(body).toEqual({
      name: 'QA mail',
      kind: 'email',
      url: '',
      secret: 'app-password',
      config: {
        host: 'smtp.example.com',
        port: null,
        security: 'starttls',
        username: 'bot',
        sender: 'qa@example.com',
        recipients: ['a@example.com', 'b@example.com', 'c@example.com'],
        verify_tls: true,
        ca_pem: '',
      },
      enabled: true,
    })
  })

  it('keeps a CA certificate as it was pasted', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
    expect(formToCreate(form({ kind: 'email', ca_pem: pem })).config?.ca_pem).toBe(pem)
  })
})

describe('channelToForm', () => {
  it('reads back every SMTP setting, recipients one per line, and never a secret', () => {
    expect(channelToForm(smtp)).toMatchObject({
      kind: 'email',
      host: 'smtp.example.com',
      port: null,
      security: 'tls',
      username: 'qa-bot',
      sender: 'testyard <qa@example.com>',
      recipients: 'a@example.com\nBea <b@example.com>',
      verify_tls: false,
      secret: '',
      clearSecret: false,
    })
  })

  it('falls back to defaults for a chat kind and an unknown kind', () => {
    const chat = channelToForm(saved({}))
    expect(chat).toMatchObject({ kind: 'webhook', url: 'https://ci.example.com/hook?token=***', security: 'starttls', port: null, verify_tls: true })
    expect(channelToForm(saved({ kind: 'pager' })).kind).toBe('webhook')
  })

  it('shows the usual port empty, so it follows the security; another port as it is', () => {
    const odd = { ...smtp, config: { ...smtp.config, port: 2525 } }
    expect(channelToForm(odd).port).toBe(2525)
    expect(formToCreate({ ...channelToForm(smtp), security: 'starttls' }).config?.port).toBeNull()
  })

  it('gives back the same config for every kind (the usual port left to the server)', () => {
    for (const kind of KINDS) {
      const channel = kind === 'email' ? smtp : saved({ kind })
      const config = kind === 'email' ? { ...smtp.config, port: null } : {}
      expect(formToCreate(channelToForm(channel)).config).toEqual(config)
    }
  })
})

describe('formToUpdate', () => {
  it('keeps the stored (masked) URL and secret when they are left alone', () => {
    const channel = saved({ secret_set: true })
    const body = formToUpdate(channelToForm(channel), channel)
    expect(body).toEqual({ name: 'Team hook', kind: 'webhook', config: {}, enabled: true })
    expect('url' in body || 'secret' in body).toBe(false)
  })

  it('sends a changed URL and a new secret', () => {
    const channel = saved({ secret_set: true })
    const body = formToUpdate({ ...channelToForm(channel), url: 'https://ci.example.com/other', secret: 'new' }, channel)
    expect(body).toMatchObject({ url: 'https://ci.example.com/other', secret: 'new' })
  })

  it('removes the stored secret when asked, and not when one is typed instead', () => {
    const channel = saved({ secret_set: true })
    expect(formToUpdate({ ...channelToForm(channel), clearSecret: true }, channel).secret).toBe('')
    expect(formToUpdate({ ...channelToForm(channel), clearSecret: true, secret: 'typed' }, channel).secret).toBe('typed')
    expect('secret' in formToUpdate({ ...channelToForm(saved({})), clearSecret: true }, saved({}))).toBe(false)
  })

  it('removes the secret when the kind changes to one that takes none, or to another kind', () => {
    const channel = saved({ secret_set: true })
    expect(formToUpdate({ ...channelToForm(channel), kind: 'slack' }, channel).secret).toBe('')
    expect(formToUpdate({ ...channelToForm(channel), kind: 'feishu' }, channel).secret).toBe('')
    expect(formToUpdate({ ...channelToForm(channel), kind: 'feishu', secret: 'fs' }, channel).secret).toBe('fs')
  })

  it('keeps an e-mail password unless a new one is typed, and clears the URL of a chat kind turned e-mail', () => {
    const kept = formToUpdate(channelToForm(smtp), smtp)
    expect('secret' in kept).toBe(false)
    expect(kept.config).toEqual({ ...smtp.config, port: null })
    const turned = formToUpdate({ ...channelToForm(saved({})), kind: 'email', host: 'mx', sender: 's@x.y', recipients: 'r@x.y' }, saved({}))
    expect(turned).toMatchObject({ kind: 'email', url: '', config: { host: 'mx', recipients: ['r@x.y'] } })
  })

  it('sends an e-mail channel turned chat its URL and an empty config', () => {
    const body = formToUpdate({ ...channelToForm(smtp), kind: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k' }, smtp)
    expect(body).toMatchObject({ kind: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k', config: {}, secret: '' })
  })
})

describe('splitRecipients', () => {
  it('splits on lines, commas and semicolons, without blanks', () => {
    expect(splitRecipients(' a@x.y ,b@x.y;\n\nName <c@x.y>\n')).toEqual(['a@x.y', 'b@x.y', 'Name <c@x.y>'])
    expect(splitRecipients('  ')).toEqual([])
  })
})
