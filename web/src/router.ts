// Every page of the UI. Project pages live under /p/:pid so a link names its project.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { session, rememberProject } from '@/session'

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { public: true } },
  { path: '/', name: 'home', redirect: () => (session.projectId ? `/p/${session.projectId}/cases` : '/projects') },
  { path: '/projects', name: 'projects', component: () => import('@/views/ProjectsView.vue') },
  { path: '/import', name: 'import', component: () => import('@/views/ImportView.vue') },
  { path: '/users', name: 'users', component: () => import('@/views/UsersView.vue') },
  { path: '/workers', name: 'workers', component: () => import('@/views/WorkersView.vue') },
  { path: '/account', name: 'account', component: () => import('@/views/AccountView.vue') },
  { path: '/p/:pid', redirect: (to) => `/p/${to.params.pid}/cases` },
  { path: '/p/:pid/environments', name: 'environments', component: () => import('@/views/EnvironmentsView.vue') },
  { path: '/p/:pid/fixtures', name: 'fixtures', component: () => import('@/views/FixturesView.vue') },
  { path: '/p/:pid/fixtures/new', name: 'fixture-new', component: () => import('@/views/FixtureEditView.vue') },
  { path: '/p/:pid/fixtures/:fid', name: 'fixture', component: () => import('@/views/FixtureEditView.vue') },
  { path: '/p/:pid/cases', name: 'cases', component: () => import('@/views/CasesView.vue') },
  { path: '/p/:pid/cases/new', name: 'case-new', component: () => import('@/views/CaseEditView.vue') },
  { path: '/p/:pid/cases/:cid', name: 'case', component: () => import('@/views/CaseEditView.vue') },
  { path: '/p/:pid/cases/:cid/fixture-plan', name: 'case-fixture-plan', component: () => import('@/views/FixturePlanView.vue') },
  { path: '/p/:pid/plans', name: 'plans', component: () => import('@/views/PlansView.vue') },
  { path: '/p/:pid/plans/new', name: 'plan-new', component: () => import('@/views/PlanEditView.vue') },
  { path: '/p/:pid/plans/:plid/edit', name: 'plan-edit', component: () => import('@/views/PlanEditView.vue') },
  { path: '/p/:pid/plans/:plid', name: 'plan', component: () => import('@/views/PlanDashboardView.vue') },
  { path: '/p/:pid/runs', name: 'runs', component: () => import('@/views/RunsView.vue') },
  { path: '/p/:pid/runs/:rid', name: 'run', component: () => import('@/views/RunView.vue') },
  { path: '/p/:pid/channels', name: 'channels', component: () => import('@/views/ChannelsView.vue') },
  { path: '/p/:pid/exchange', name: 'exchange', component: () => import('@/views/ExchangeView.vue') },
  { path: '/p/:pid/members', name: 'members', component: () => import('@/views/MembersView.vue') },
  { path: '/:rest(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue') },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach((to) => {
  if (!to.meta.public && !session.token) return { name: 'login', query: { next: to.fullPath } }
  const pid = Number(to.params.pid)
  if (pid && pid !== session.projectId) rememberProject(pid)
  return true
})
