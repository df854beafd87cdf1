// Package serve is `sharpflat serve`: the lab over SSH (charmbracelet/wish v1.4.7), for a
// classroom, with the safety that wish leaves to its users.
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
// Limits, all on by default: MaxSessions overall, MaxPerKey sessions per identity (per source
// address for anonymous sessions), MaxEngines training at once with a bounded queue, MaxConns
// connections with at most 16 per source address still short of a session, a handshake
// timeout (also closing authenticated connections that open no session), MaxAuthTries,
// an idle timeout counted from the last key press (frames sent do not count), a maximum
// session length, a write timeout that cuts off a client that stops reading, a cap on the
// terminal size and on the frame rate, and a key-rate limit. Port forwarding, X11,
// subsystems (sftp), exec commands and sessions without a PTY are refused. (charmbracelet/ssh
// acknowledges an agent-forwarding request; nothing here ever opens the agent channel.)
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
