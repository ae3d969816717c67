import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import ListPager from './ListPager.vue'

function pager(total: number, perPage = 10, page = 1) {
  return mount(ListPager, {
    props: { total, perPage, modelValue: page, small: true },
    global: { plugins: [ElementPlus] },
  })
}

describe('ListPager', () => {
  it('is hidden while one page holds the whole list', () => {
    expect(pager(10).find('.el-pagination').exists()).toBe(false)
    expect(pager(11).find('.el-pagination').exists()).toBe(true)
  })

  it('moves the page and then asks for it', async () => {
    const wrapper = pager(35)
    await wrapper.find('.el-pagination .btn-next').trigger('click')
    expect(wrapper.emitted('update:modelValue')).toEqual([[2]])
    expect(wrapper.emitted('change')).toEqual([[2]])
  })
})
