#!/usr/bin/env node
// The fastest plain client of the OData service for the connector benchmark: N business partners created by
// JSON $batch of CHUNK, then read back following @odata.nextLink, one keep-alive connection, from a script.
//   node plain_odata.js SERVICE_ROOT USER PASSWORD PREFIX N CHUNK
// (SERVICE_ROOT: .../odata/v4/api-business-partner/). Prints "push <records>/s" and "pull <records>/s".
'use strict'
const http = require('http')

const [root, user, password, prefix, N, CHUNK] = process.argv.slice(2)
const n = Number(N), chunk = Number(CHUNK)
const base = new URL(root)
const auth = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64')
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })

function request(method, url, body) {
  const u = new URL(url, base)
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body))
  return new Promise((resolve, reject) => {
    const req = http.request(u, {
      method, agent,
      headers: { authorization: auth, accept: 'application/json', ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}) },
    }, (res) => {
      const parts = []
      res.on('data', (c) => parts.push(c))
      res.on('end', () => {
        const text = Buffer.concat(parts).toString()
        if (res.statusCode >= 400) return reject(new Error(`${method} ${u.pathname} -> ${res.statusCode} ${text.slice(0, 200)}`))
        resolve(JSON.parse(text))
      })
    })
    req.on('error', reject)
    req.end(data)
  })
}

;(async () => {
  const key = (i) => prefix + String(i).padStart(6, '0')
  let t0 = process.hrtime.bigint()
  for (let at = 0; at < n; at += chunk) {
    const requests = []
    for (let i = at; i < Math.min(n, at + chunk); i++) {
      requests.push({ id: String(i), method: 'POST', url: 'A_BusinessPartner', headers: { 'content-type': 'application/json' },
        body: { BusinessPartner: key(i), BusinessPartnerCategory: '2', BusinessPartnerFullName: `Bench Customer ${i}` } })
    }
    const answer = await request('POST', '$batch', { requests })
    const bad = answer.responses.filter((r) => r.status >= 400)
    if (bad.length) throw new Error(`$batch: ${bad.length} refused: ${JSON.stringify(bad[0].body)}`)
  }
  const push = Number(process.hrtime.bigint() - t0) / 1e9
  t0 = process.hrtime.bigint()
  let url = `A_BusinessPartner?$filter=startswith(BusinessPartner,'${prefix}')&$select=BusinessPartner,BusinessPartnerFullName`, got = 0
  while (url) {
    const page = await request('GET', url)
    got += page.value.length
    url = page['@odata.nextLink']
  }
  const pull = Number(process.hrtime.bigint() - t0) / 1e9
  if (got !== n) throw new Error(`read back ${got} of ${n}`)
  console.log(`push ${Math.round(n / push)}`)
  console.log(`pull ${Math.round(n / pull)}`)
  agent.destroy()
})().catch((e) => { console.error(e.message); agent.destroy(); process.exit(1) })
