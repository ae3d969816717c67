// English and Simplified Chinese. Each area of the UI keeps its messages in
// locales/<lang>/<area>.ts (a default-exported object); they are merged here.
import { createI18n } from 'vue-i18n'

export type Locale = 'en' | 'zh'
export const LOCALES: { value: Locale; label: string }[] = [
  { value: 'en', label: 'English' },
  { value: 'zh', label: '简体中文' },
]
const KEY = 'testyard.locale'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- nested message objects
type Messages = Record<string, any>
const modules = import.meta.glob<{ default: unknown }>('./locales/*/*.ts', { eager: true })

export function collect(lang: Locale): Messages {
  const merged: Messages = {}
  for (const [path, module] of Object.entries(modules)) {
    const [, folder, area] = /locales\/(\w+)\/(\w+)\.ts$/.exec(path) ?? []
    if (folder === lang && area) merged[area] = module.default as Messages
  }
  return merged
}

function initialLocale(): Locale {
  const saved = localStorage.getItem(KEY)
  if (saved === 'en' || saved === 'zh') return saved
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en'
}

export const i18n = createI18n<false, object>({
  legacy: false,
  locale: initialLocale() as string,
  fallbackLocale: 'en',
  messages: { en: collect('en'), zh: collect('zh') } as Record<string, Messages>,
})

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  localStorage.setItem(KEY, locale)
  document.documentElement.lang = locale === 'zh' ? 'zh-CN' : 'en'
}
