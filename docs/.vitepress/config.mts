import { defineConfig } from 'vitepress';

// The docs site: `npm run docs:build` (TypeDoc writes api/ first), `npm run docs:dev` to write pages. The pages are
// plain Markdown that reads on GitHub too, so no VitePress-only syntax in them.
export default defineConfig({
  title: 'nestream',
  description: 'Redis Streams consumer groups as a NestJS microservices transport',
  cleanUrls: true,
  lastUpdated: false,
  // Pages link source files on GitHub; everything else must resolve (dead links fail the build).
  ignoreDeadLinks: false,
  themeConfig: {
    nav: [
      { text: 'Getting started', link: '/getting-started/' },
      { text: 'Guides', link: '/guide/events' },
      { text: 'Reference', link: '/reference/options' },
      { text: 'API', link: '/api/' },
    ],
    sidebar: [
      {
        text: 'Getting started',
        items: [
          { text: 'Setups', link: '/getting-started/' },
          { text: 'NestJS 12 (ESM, strict)', link: '/getting-started/nest-12-esm' },
          { text: 'NestJS 11 (CommonJS)', link: '/getting-started/nest-11-commonjs' },
        ],
      },
      {
        text: 'Guides',
        items: [
          { text: 'Consumers and producers', link: '/guide/events' },
          { text: 'Producing and keeping events', link: '/guide/producing' },
          { text: 'Retries and dead letters', link: '/guide/retries-and-dead-letters' },
          { text: 'Request-reply', link: '/guide/request-reply' },
          { text: 'Partitioned streams', link: '/guide/partitions' },
          { text: 'Cluster and Sentinel', link: '/guide/cluster-and-sentinel' },
          { text: 'Durable emits', link: '/guide/durability' },
          { text: 'Monitoring', link: '/guide/monitoring' },
          { text: 'Security', link: '/guide/security' },
          { text: 'Operations', link: '/guide/operations' },
          { text: 'The board', link: '/guide/board' },
          { text: 'Testing', link: '/guide/testing' },
          { text: 'Upgrading', link: '/guide/upgrading' },
        ],
      },
      {
        text: 'Reference',
        items: [
          { text: 'Options', link: '/reference/options' },
          { text: 'Delivery guarantees', link: '/reference/delivery-guarantees' },
          { text: 'Wire format', link: '/reference/wire-format' },
          { text: 'CLI', link: '/reference/cli' },
          { text: 'API (TypeDoc)', link: '/api/' },
          { text: 'Conformance suite', link: '/reference/conformance' },
          { text: 'Performance', link: '/reference/performance' },
          { text: 'Working on nestream', link: '/contributing' },
        ],
      },
    ],
    socialLinks: [{ icon: 'github', link: 'https://github.com/nestream/nestream' }],
    search: { provider: 'local' },
    outline: [2, 3],
  },
});
