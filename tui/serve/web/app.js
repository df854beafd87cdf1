// The sharpflat page: a terminal (xterm.js, fit addon) on the server's WebSocket. The
// protocol is in tui/serve/webpeer.go. The join token comes from the URL's fragment
// (#t=TOKEN), which browsers never send in a request, and goes to the server in the
// first WebSocket message; it is then removed from the address bar and kept in the tab's
// sessionStorage, so that a reload joins again.
'use strict';
(function () {
  const status = document.getElementById('status');
  const say = (text, bad) => { status.textContent = text; status.className = bad ? 'bad' : ''; };
  // The token leaves the address bar at once (a teacher projecting the tab would show it);
  // the tab's sessionStorage keeps it for a reload.
  let token = new URLSearchParams(location.hash.slice(1)).get('t');
  if (token) {
    try { sessionStorage.setItem('sharpflat-token', token); } catch (e) { /* storage off: a reload needs the link */ }
    history.replaceState(null, '', location.pathname + location.search);
  } else {
    try { token = sessionStorage.getItem('sharpflat-token'); } catch (e) { token = null; }
  }
  if (!token) { say('This link has no token: open the join link you were given (it ends in #t=…).', true); return; }

  const term = new Terminal({ cursorBlink: false, scrollback: 0, fontSize: 14, allowProposedApi: true });
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(document.getElementById('term'));
  fit.fit();
  window.sharpflatTerm = term; // for tests: the buffer's text

  // OSC 52 (the lab's y): the selection goes to the browser's clipboard.
  term.parser.registerOscHandler(52, (data) => {
    const i = data.indexOf(';');
    if (i < 0) return true;
    try {
      const bytes = Uint8Array.from(atob(data.slice(i + 1)), (c) => c.charCodeAt(0));
      const text = new TextDecoder().decode(bytes);
      if (navigator.clipboard) navigator.clipboard.writeText(text).then(
        () => say('copied to the clipboard'), () => say('the browser refused the clipboard', true));
    } catch (e) { /* not base64: ignored */ }
    return true;
  });

  // One connection at a time; a connection lost before the server answered (refused in a
  // crowd, a proxy restarting) is tried again a few times, after a random pause so that a
  // class does not come back all at once. A refusal with a reason is shown, never retried.
  let ws = null;
  let ended = false;
  let joined = false;
  let tries = 0;
  const send = (m) => { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m)); };
  const connect = () => {
    ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      send({ type: 'hello', token: token, cols: term.cols, rows: term.rows });
      say('joining…');
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') { term.write(new Uint8Array(ev.data)); return; }
      let m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.type === 'joined') { joined = true; say(''); fit.fit(); term.focus(); document.title = 'sharpflat — ' + m.name + ' (' + m.role + ')'; }
      if (m.type === 'error') { ended = true; say(m.message, true); }
    };
    ws.onclose = (ev) => {
      if (!ended && !joined && ev.code === 1006 && tries < 5) {
        tries++;
        say('connecting again (' + tries + ')…');
        setTimeout(connect, 500 + Math.random() * 1500 * tries);
        return;
      }
      if (!ended) say(ev.code === 1000 ? 'The session ended. Reload to join again.' :
        'Disconnected (' + ev.code + (ev.reason ? ': ' + ev.reason : '') + '). Reload to join again.', ev.code !== 1000);
    };
  };
  connect();
  term.onData((d) => send({ type: 'keys', data: d }));
  term.onResize((s) => send({ type: 'size', cols: s.cols, rows: s.rows }));
  let pending = null;
  window.addEventListener('resize', () => {
    if (pending) return;
    pending = setTimeout(() => { pending = null; fit.fit(); }, 50);
  });
})();
