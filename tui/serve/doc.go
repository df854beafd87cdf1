// Package serve is `sharpflat serve`: the lab over SSH (charmbracelet/wish v1.4.7) and in
// the browser, for a classroom, with the safety that wish leaves to its users.
//
// Two front doors, one core. A door authenticates its client and hands the session core a
// peer (door.go): keys in, frames out, a terminal's name and size, resizes, and a way to end
// the transport. The SSH door (door_ssh.go) proves a public key; the web door (web.go,
// webpeer.go, webtokens.go) serves a page with a terminal emulator and a WebSocket, and
// takes a join token in the WebSocket's first message. Everything below — modes, limits,
// the pre-auth pool, input, rendering, containment, shutdown — is the core's and holds for
// both doors alike; what is said of keys and SSH holds for the SSH door, and the web door's
// own rules are in web.go.
//
// Two modes:
//
//	per-session (default)  every session trains its own engine (lab.New on the configured
//	                       preset); at most MaxEngines train at once, the rest wait in a
//	                       queue that shows their position, or are told the lab is full
//	classroom              one shared engine; sessions whose key is in the controllers file
//	                       steer it, every other session watches read-only. Each session
//	                       subscribes to the one engine's coalesced snapshot stream and
//	                       renders its own view, so a viewer costs one subscription and its
//	                       frames, never a second engine
//
// Identity. A session's identity is the public key the client proved it holds, never one it
// merely offered. In SSH a client may offer a key without signing (a "query"), and the
// server's PublicKeyCallback — and wish's PublicKeyHandler above it — is called for offered
// keys as well as for the key finally used. Here that handler only answers "would this key
// be accepted", with no side effects; the identity is written by x/crypto's
// VerifiedPublicKeyCallback, which runs only after the signature over the session has been
// verified, for exactly that key, into the connection's Permissions.Extensions
// (extFingerprint). Sessions read the identity from there and nowhere else. With Open,
// clients without a key may log in anonymously through keyboard-interactive with no prompts
// (marked extAnonymous); "none" and password authentication are never accepted.
//
// Keys. The authorized keys file (and a classroom's controllers file, whose keys need not be
// repeated in it) is OpenSSH's authorized_keys format, re-read when it changes. Of sshd(8)'s
// options it honours expiry-time (the key is refused after it; the system's time zone, UTC
// with a Z), from= (addresses, CIDR prefixes, * and ? wildcards, ! negation, matched against
// the client's address as sshd does without DNS), restrict and no-pty (no terminal: the lab
// needs one, so the session says why and ends with status 1) and pty; the forwarding and rc
// flags change nothing, since nothing here is ever forwarded. A key with any other option
// (command=, environment=, permitopen=, permitlisten=, principals=, tunnel=, cert-authority,
// security-key options, anything unknown) is skipped with a warning naming file:line: ignoring
// a restriction would widen the key. A refused key is logged with its reason. The files are
// read with bounds (16 MiB, a line 64 KiB; the host key 64 KiB, and only regular files): at
// start-up a file over them is an error naming file:line; at a reload it is logged and the
// keys read before stay in force (a file that disappears or may not be read locks everyone
// out). A file without one usable key is a loud warning, not an error: keys can be added
// while the server runs.
//
// Limits, all on by default: MaxSessions overall, MaxPerKey sessions per identity (per source
// address for anonymous sessions; a shared watcher link of the web door has MaxPerLink per
// source address instead, by default MaxSessions, so a class behind one NAT can join), MaxEngines training at once with a bounded queue, MaxConns
// connections, a handshake timeout (also closing authenticated connections that open no
// session), MaxAuthTries, an idle timeout counted from the last key press (frames sent do not
// count; a classroom's watchers also live by a controller's keys and the engine's training,
// so students are not idle while the lesson goes on, but a controller only by its own keys:
// the engine trains because sessions are connected, and a teacher who walked away must not
// keep the class forever; without controllers anyone's key keeps the class, the engine
// nobody), a maximum session length, a write timeout that cuts off a client that stops reading,
// a cap on the terminal size and on the frame rate, and a key-rate limit. Port forwarding,
// X11, subsystems (sftp), exec commands and sessions without a PTY are refused.
// (charmbracelet/ssh acknowledges an agent-forwarding request; nothing here ever opens the
// agent channel.)
//
// Pending connections. Connections not yet authenticated have a pool of their own,
// MaxPreauth (half of MaxConns, at most 64): an address may hold a quarter of it, a network
// (an IPv4 /24, an IPv6 /64) half, and an IPv6 /48 site half. New connections are counted
// per source address in a token bucket, a burst of an address's share and then one every
// 4 s, and new IPv6 addresses per /48 site: a source past it is "hot". A newcomer that is not hot is never refused for want of
// a pending slot: the oldest pending connection of its address, else of its network, else
// of the pool, is closed to make room, those of hot sources first, then those that have not
// finished the key exchange. A hot newcomer takes a free slot or its own address's oldest,
// and is otherwise refused at once, before any handshake work. Under pressure (the pool
// more than half full) the newcomer's handshake deadline is a quarter of HandshakeTimeout.
// A flood of unfinished handshakes then holds slots only until newer connections push it
// out; a flood that reconnects as soon as it is closed churns only its own connections,
// while a user of its network, who is not hot, takes one of their slots (issue 25: 50
// addresses × 10 reconnecting slots of 127.0.0.0/24 had kept such a user out 4 times in 5).
// Refusals, evictions and failed handshakes are logged at most once per 10 s per kind, with
// the count left out. See preauth.go, connrate.go and LOAD.md.
//
// Input. A session's input is read as fast as the client sends it, cut into whole keys (an
// escape sequence is one key) and bounded to the newest 64 (keyqueue.go); a long bracketed
// paste is dropped whole. The key limit (50 a second) drops the oldest of a burst and never
// a q or ctrl+c. A 10 MB paste thus costs what reading it costs, and the q after it is
// answered at once.
//
// Logs. Whatever a peer or a key file sends (user and terminal names, the client's version
// line, key comments, refusal reasons) is logged through safetext (control characters
// shown escaped, never executed); the serve command also writes its log through
// safetext.NewWriter.
//
// Rendering. Styles come from each session's own lipgloss renderer: the colour profile from
// the client's TERM and environment, the background from an OSC 11 query answered by the
// client's terminal. The query is read through the session's input pump with a timeout, the
// answer is cut out and every other byte goes to the program: wish's MakeRenderer reads the
// reply through a cancel reader that cannot interrupt a read on an SSH channel, so a terminal
// that does not answer leaves it blocked until the next key press, which it then discards.
//
// Containment. Each session's engine goroutine and the UI's Update and View recover from
// panics and end that session only (wish's recover middleware covers neither). Bubbletea's
// SuspendMsg is filtered out (it would send SIGTSTP to the server's process group) and its
// signal handler is off (each program would otherwise catch the server's SIGTERM).
//
// Shutdown tells every session the server is stopping, waits half of the caller's deadline,
// quits the programs, and closes whatever is left before the deadline.
//
// Package serve imports tui, lab and lab/train; only the main package imports it.
package serve
