package serve

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// keyOptions are the options of one authorized_keys line that this server honours, with
// sshd(8)'s meaning (AUTHORIZED_KEYS FILE FORMAT):
//
//	expiry-time="YYYYMMDD[HHMM[SS]][Z]"  the key is refused after that time (the system's
//	                                     time zone, UTC with Z); the earliest of several wins
//	from="pattern-list"                  the client's address must match (see fromList)
//	restrict                             every restriction: here, no terminal (forwarding,
//	                                     agent, X11 and rc are never allowed anyway)
//	no-pty, pty                          forbid or allow a terminal (read in order: restrict,pty
//	                                     allows one, pty,restrict does not)
//
// The other forwarding and rc flags (no-port-forwarding, agent-forwarding, no-user-rc, ...)
// are accepted and change nothing: this server grants none of them to anybody. Every other
// option (command=, environment=, permitopen=, permitlisten=, principals=, tunnel=,
// cert-authority, the security-key options touch-required and verify-required, anything
// unknown) is an error: the key is not used, since ignoring a restriction would widen it.
type keyOptions struct {
	expires time.Time // zero: never
	from    fromList  // nil: from anywhere
	noPTY   bool
}

// noopFlags are the flags accepted without effect (each also with a "no-" prefix).
var noopFlags = map[string]bool{"port-forwarding": true, "agent-forwarding": true, "x11-forwarding": true, "user-rc": true}

// optionError is an option parseKeyOptions refuses, and why.
type optionError struct {
	option string
	err    error
}

func (e *optionError) Error() string { return e.option + ": " + e.err.Error() }

// parseKeyOptions reads the options x/crypto's ParseAuthorizedKey split off a line (quotes
// kept), in order; times without a Z are in loc. Its errors are *optionError.
func parseKeyOptions(opts []string, loc *time.Location) (keyOptions, error) {
	var o keyOptions
	for _, opt := range opts {
		name, value, valued := strings.Cut(opt, "=")
		name = strings.ToLower(name)
		if !valued {
			switch {
			case name == "restrict", name == "no-pty":
				o.noPTY = true
				continue
			case name == "pty":
				o.noPTY = false
				continue
			case noopFlags[name] || noopFlags[strings.TrimPrefix(name, "no-")]:
				continue
			}
		}
		bad := func(err error) (keyOptions, error) { return o, &optionError{name, err} }
		switch name {
		case "expiry-time":
			v, err := dequote(value)
			if err != nil {
				return bad(err)
			}
			t, err := parseExpiry(v, loc)
			if err != nil {
				return bad(err)
			}
			if o.expires.IsZero() || t.Before(o.expires) {
				o.expires = t
			}
		case "from":
			if o.from != nil {
				return bad(errors.New("from= given twice"))
			}
			v, err := dequote(value)
			if err != nil {
				return bad(err)
			}
			if o.from, err = parseFrom(v); err != nil {
				return bad(err)
			}
		default:
			return bad(errors.New("not honoured by this server"))
		}
	}
	return o, nil
}

// dequote reads a double-quoted option value as sshd does: \" stands for a quote, any other
// backslash is itself, and nothing may follow the closing quote.
func dequote(s string) (string, error) {
	if !strings.HasPrefix(s, `"`) {
		return "", errors.New("the value must be in double quotes")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '"':
			b.WriteByte('"')
			i++
		case s[i] == '"':
			if i != len(s)-1 {
				return "", errors.New("text after the closing quote")
			}
			return b.String(), nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", errors.New("missing closing quote")
}

// parseExpiry reads YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, in loc unless suffixed by Z
// (UTC). A date alone is its first second.
func parseExpiry(s string, loc *time.Location) (time.Time, error) {
	if t, ok := strings.CutSuffix(s, "Z"); ok {
		s, loc = t, time.UTC
	} else if t, ok := strings.CutSuffix(s, "z"); ok {
		s, loc = t, time.UTC
	}
	layout := map[int]string{8: "20060102", 12: "200601021504", 14: "20060102150405"}[len(s)]
	if layout == "" || strings.Trim(s, "0123456789") != "" {
		return time.Time{}, fmt.Errorf("%q: want YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, optionally followed by Z", s)
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: %w", s, err)
	}
	return t, nil
}

// fromList is a from="..." pattern list: comma-separated entries, each an address, a CIDR
// prefix (address/bits, no host bits set) or a pattern with the wildcards * and ?, and
// negated by a leading !. It is matched as sshd's match_host_and_ip with UseDNS off (its
// default): the client's name is its address, so an address matches an entry either as an
// address (prefix) or as a string (pattern, case-insensitive); a negated entry that matches
// refuses, wherever it stands; otherwise a positive match admits, and no match refuses.
type fromList []fromEntry

type fromEntry struct {
	negated bool
	prefix  netip.Prefix // valid for an address or a prefix
	pattern string       // lower case, otherwise
}

func parseFrom(s string) (fromList, error) {
	var l fromList
	for _, e := range strings.Split(s, ",") {
		var f fromEntry
		e, f.negated = strings.CutPrefix(e, "!")
		if e == "" {
			return nil, errors.New("an empty entry in the list")
		}
		switch {
		case strings.Contains(e, "/"):
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address/bits prefix", e)
			}
			if p.Masked() != p {
				return nil, fmt.Errorf("%q has bits set beyond its prefix length (%s?)", e, p.Masked())
			}
			f.prefix = p
		default:
			if a, err := netip.ParseAddr(e); err == nil {
				f.prefix = netip.PrefixFrom(a, a.BitLen())
			} else {
				f.pattern = strings.ToLower(e)
			}
		}
		l = append(l, f)
	}
	return l, nil
}

// matches reports whether a client at addr may use the key.
func (l fromList) matches(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	s := addr.String()
	ok := false
	for _, f := range l {
		hit := f.prefix.IsValid() && f.prefix.Contains(addr) || f.pattern != "" && wildcardMatch(f.pattern, s)
		switch {
		case hit && f.negated:
			return false
		case hit:
			ok = true
		}
	}
	return ok
}

func (l fromList) String() string {
	var parts []string
	for _, f := range l {
		p := f.pattern
		if f.prefix.IsValid() {
			p = f.prefix.String()
			if f.prefix.IsSingleIP() {
				p = f.prefix.Addr().String()
			}
		}
		if f.negated {
			p = "!" + p
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ",")
}

// wildcardMatch matches s against pat, where * is any run of characters and ? any one.
func wildcardMatch(pat, s string) bool {
	// The classic greedy match with one backtrack point: the last *.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pat) && (pat[p] == '?' || pat[p] == s[i]):
			p++
			i++
		case p < len(pat) && pat[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pat) && pat[p] == '*' {
		p++
	}
	return p == len(pat)
}

// permits says whether the key may log in from addr at now, and if not, why.
func (o keyOptions) permits(addr netip.Addr, now time.Time) (bool, string) {
	if !o.expires.IsZero() && now.After(o.expires) {
		return false, "key expired at " + o.expires.Format(time.RFC3339)
	}
	if o.from != nil && (!addr.IsValid() || !o.from.matches(addr)) {
		return false, "not from a permitted address (from=" + o.from.String() + ")"
	}
	return true, ""
}
