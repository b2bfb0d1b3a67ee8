// Shared by the clerk's screens: calling the API (with the window's token, when the service
// needs one), building elements, field labels, severities, and the waterfall chart.
'use strict';

const Kensa = (() => {
  // Japanese labels of the standard record's fields; a field the rules add shows its key.
  const LABELS = {
    id: '記録番号', my_number: '個人番号', family_name: '氏', given_name: '名',
    family_name_kana: 'フリガナ（氏）', given_name_kana: 'フリガナ（名）', birth_date: '生年月日',
    sex: '性別', postal_code: '郵便番号', address: '住所', former_names: '旧姓',
    former_names_kana: '旧姓のフリガナ', alias: '通称名', bank: '公金受取口座',
    'bank.bank_code': '金融機関コード', 'bank.branch_code': '支店コード', 'bank.account_type': '預金種目',
    'bank.account_number': '口座番号', 'bank.holder_kana': '口座名義（カナ）',
    residence_card_number: '在留カード番号', nationality: '国籍・地域',
  };
  const VALUES = { male: '男', female: '女', ordinary: '普通', checking: '当座', savings: '貯蓄' };
  const SEVERITY = { reject: '却下', review: '要確認', warn: '注意' };
  const DECISION = { accept: '受付可', review: '要確認', reject: '却下' };
  // The `compare` lines of the standard match block.
  const COMPARES = { name: '氏名', reading: 'フリガナ', birth: '生年月日', sex: '性別', address: '住所', number: '個人番号', postal: '郵便番号' };

  const label = (path) => LABELS[path] || path;
  const compareLabel = (name) => COMPARES[name] || name;

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function token() { return sessionStorage.getItem('kensa-token') || ''; }

  // Ask for the window's token when the service needs one.
  function askToken(retry) {
    let bar = document.getElementById('token-bar');
    if (!bar) {
      bar = el('div', { id: 'token-bar', class: 'token-bar' },
        el('label', { for: 'token', text: 'この窓口の鍵（トークン）' }),
        el('input', { id: 'token', type: 'password', autocomplete: 'off' }),
        el('button', { type: 'button', id: 'token-save', text: '使う' }));
      document.body.append(bar);
    }
    bar.hidden = false;
    const input = document.getElementById('token');
    input.focus();
    document.getElementById('token-save').onclick = () => {
      sessionStorage.setItem('kensa-token', input.value.trim());
      bar.hidden = true;
      if (retry) retry();
    };
  }

  class ApiError extends Error {
    constructor(status, body) { super((body && body.message) || ('HTTP ' + status)); this.status = status; this.body = body; }
  }

  async function api(path, options) {
    const opts = Object.assign({ method: 'GET' }, options || {});
    const headers = { Accept: 'application/json' };
    if (opts.body !== undefined) { headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(opts.body); }
    if (token()) headers.Authorization = 'Bearer ' + token();
    opts.headers = headers;
    const res = await fetch(path, opts);
    let body = null;
    try { body = await res.json(); } catch (_) { body = null; }
    if (!res.ok) {
      if (res.status === 401) askToken(null);
      throw new ApiError(res.status, body);
    }
    return body;
  }

  function status(text, isError) {
    const s = document.getElementById('status');
    if (!s) return;
    s.textContent = text || '';
    s.classList.toggle('error', !!isError);
  }

  // One finding: severity in words and colour, the message, the rule.
  function finding(f) {
    const sev = f.severity || 'review';
    return el('li', { class: 'finding sev-' + sev },
      el('span', { class: 'sev', text: (SEVERITY[sev] || sev) + (f.penalty ? ' −' + f.penalty : '') }),
      el('span', { class: 'message', text: f.message || '' }),
      el('span', { class: 'rule', text: f.rule }));
  }

  function decisionBadge(node, decision) {
    node.className = 'decision decision-' + (decision || 'none');
    node.textContent = decision ? (DECISION[decision] || decision) + '（' + decision + '）' : '未入力';
  }

  const fmt = (x, digits) => (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(digits === undefined ? 2 : digits);
  const log2odds = (p) => Math.log2(p / (1 - p));
  // 99.99996% rather than a rounded 100.0000%: near certainty, the digits are the point.
  const percent = (p) => (p >= 1 ? '100' : p <= 0 ? '0' : (p * 100).toPrecision(p > 0.99 ? 7 : 3).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '')) + '%';

  // The waterfall of a pair's match weights: from the prior's log2 odds, one bar per `compare`
  // line (up for agreement, down for disagreement), to the final log2 odds and probability.
  function waterfall(pair) {
    const steps = pair.comparisons.map((c) => ({ name: compareLabel(c.name) + (c.level ? '（' + c.level + '）' : '（なし）'), w: c.weight }));
    const start = log2odds(Math.min(Math.max(pair.prior, 1e-12), 1 - 1e-12));
    let acc = start;
    const bars = [{ name: '事前確率', from: 0, to: start, kind: 'prior' }];
    for (const s of steps) { bars.push({ name: s.name, from: acc, to: acc + s.w, kind: s.w >= 0 ? 'up' : 'down', w: s.w }); acc += s.w; }
    bars.push({ name: '合計', from: 0, to: acc, kind: 'total' });
    const values = bars.flatMap((b) => [b.from, b.to]);
    const lo = Math.min(0, ...values), hi = Math.max(0, ...values);
    const W = 720, rowH = 26, left = 170, right = 150, top = 10;
    const H = top * 2 + rowH * bars.length + 20;
    const x = (v) => left + ((v - lo) / (hi - lo || 1)) * (W - left - right);
    const root = svg('svg', { class: 'waterfall', viewBox: `0 0 ${W} ${H}`, role: 'img', width: W, height: H,
      'aria-label': `照合の重み: 事前 ${fmt(start, 1)} ビットから合計 ${fmt(acc, 1)} ビット、一致確率 ${percent(pair.probability)}` });
    root.append(svg('title', {}, `照合の重みの内訳（一致確率 ${percent(pair.probability)}）`));
    root.append(svg('line', { x1: x(0), x2: x(0), y1: top, y2: H - 20, stroke: '#57606a', 'stroke-dasharray': '3 3' }));
    const colors = { prior: '#57606a', up: '#1a7f37', down: '#cf222e', total: '#0969da' };
    bars.forEach((b, i) => {
      const y = top + i * rowH;
      const x1 = x(Math.min(b.from, b.to)), x2 = x(Math.max(b.from, b.to));
      root.append(svg('text', { x: left - 8, y: y + rowH * 0.65, 'text-anchor': 'end' }, b.name));
      root.append(svg('rect', { x: x1, y: y + 4, width: Math.max(1, x2 - x1), height: rowH - 8, fill: colors[b.kind], rx: 2 }));
      const value = b.kind === 'prior' || b.kind === 'total' ? fmt(b.to, 1) + ' bits' : fmt(b.w, 2);
      const extra = b.kind === 'total' ? '（' + percent(pair.probability) + '）' : '';
      root.append(svg('text', { x: W - right + 8, y: y + rowH * 0.65 }, value + extra));
    });
    root.append(svg('text', { x: x(0), y: H - 4, 'text-anchor': 'middle' }, '0（五分五分）'));
    return root;
  }

  function when(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    return d.toLocaleString('ja-JP', { timeZone: 'Asia/Tokyo' });
  }

  // The record fields in the schema's order (`x-order`, groups as `group.field`).
  async function fieldOrder() {
    try {
      const rules = await api('/v1/rules');
      const walk = (s, prefix) => (s['x-order'] || Object.keys(s.properties || {})).flatMap((k) => {
        let sub = (s.properties || {})[k] || {};
        if (Array.isArray(sub.anyOf)) sub = sub.anyOf.find((x) => x.type !== 'null') || {};
        return sub.type === 'object' && sub.properties ? walk(sub, prefix + k + '.') : [prefix + k];
      });
      return walk(rules.schema || {}, '');
    } catch (_) {
      return [];
    }
  }

  const shownValue = (v) => (typeof v === 'string' && VALUES[v] ? VALUES[v] + '（' + v + '）' : v);

  return { api, el, fieldOrder, shownValue, label, compareLabel, finding, decisionBadge, status, waterfall, when, askToken, LABELS, VALUES, SEVERITY, DECISION, percent };
})();
