package serve

import (
	"net/netip"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris below, whatever the machine has installed
)

// expiry-time: YYYYMMDD[HHMM[SS]] in the system time zone, or UTC with a Z suffix (sshd(8)).
// The Unix times are from GNU date, e.g. `TZ=Europe/Paris date -d '2021-07-04 13:45:30' +%s`.
func TestParseExpiry(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   string
		loc  *time.Location
		unix int64
	}{
		{"20200101", time.UTC, 1577836800},
		{"20200101Z", paris, 1577836800},
		{"20200101", ny, 1577854800}, // midnight local, UTC-5 in winter
		{"202107041345", time.UTC, 1625406300},
		{"20210704134530", time.UTC, 1625406330},
		{"20210704134530", paris, 1625399130}, // UTC+2 in summer
		{"20210704134530z", paris, 1625406330},
	} {
		got, err := parseExpiry(c.in, c.loc)
		if err != nil {
			t.Errorf("%s in %v: %v", c.in, c.loc, err)
			continue
		}
		if got.Unix() != c.unix {
			t.Errorf("%s in %v: %d, want %d", c.in, c.loc, got.Unix(), c.unix)
		}
	}
	for _, bad := range []string{"", "2020", "2020010", "202001011", "20201301", "20200230", "2020-01-01", "20200101 ", "2020010112Z3", "Z"} {
		if got, err := parseExpiry(bad, time.UTC); err == nil {
			t.Errorf("%q: accepted as %v", bad, got)
		}
	}
}

// Options are read in order, case-insensitively, as sshd does: restrict then pty gives a
// terminal back, pty then restrict does not; the earliest expiry-time wins; a second from=
// or an option the server cannot honour makes the key unusable.
func TestParseKeyOptions(t *testing.T) {
	for _, c := range []struct {
		opts    []string
		noPTY   bool
		expires string // YYYYMMDD in UTC, "" for none
		from    bool
		err     string // in the error, "" for none
	}{
		{opts: nil},
		{opts: []string{"restrict"}, noPTY: true},
		{opts: []string{"restrict", "pty"}},
		{opts: []string{"pty", "restrict"}, noPTY: true},
		{opts: []string{"NO-PTY"}, noPTY: true},
		{opts: []string{"no-pty", "Pty"}},
		{opts: []string{"no-port-forwarding", "no-agent-forwarding", "no-X11-forwarding", "no-user-rc", "port-forwarding", "agent-forwarding", "x11-forwarding", "user-rc"}},
		{opts: []string{`expiry-time="20300101"`, `EXPIRY-TIME="20250101"`, `expiry-time="20990101"`}, expires: "20250101"},
		{opts: []string{`from="10.0.0.0/8,!10.1.2.3"`}, from: true},
		{opts: []string{`from="10.0.0.1"`, `from="10.0.0.2"`}, err: "from= given twice"},
		{opts: []string{`from=10.0.0.1`}, err: "quote"},
		{opts: []string{`from="10.0.0.1`}, err: "quote"},
		{opts: []string{`from="10.0.0.1"x`}, err: "quote"},
		{opts: []string{`from="10.0.0.1/8"`}, err: "10.0.0.1/8"},
		{opts: []string{`from="a,,b"`}, err: "empty"},
		{opts: []string{`from=""`}, err: "empty"},
		{opts: []string{`expiry-time="2020"`}, err: "expiry-time"},
		{opts: []string{"restrict", `command="ls"`}, err: "command"},
		{opts: []string{`permitopen="h:1"`}, err: "permitopen"},
		{opts: []string{`permitlisten="1"`}, err: "permitlisten"},
		{opts: []string{`environment="A=b"`}, err: "environment"},
		{opts: []string{`tunnel="0"`}, err: "tunnel"},
		{opts: []string{`principals="a"`}, err: "principals"},
		{opts: []string{"cert-authority"}, err: "cert-authority"},
		{opts: []string{"no-touch-required"}, err: "no-touch-required"},
		{opts: []string{"no-restrict"}, err: "no-restrict"},
		{opts: []string{"pty=1"}, err: "pty"},
		{opts: []string{"frobnicate"}, err: "frobnicate"},
	} {
		o, err := parseKeyOptions(c.opts, time.UTC)
		name := strings.Join(c.opts, ",")
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want one about %q", name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if o.noPTY != c.noPTY {
			t.Errorf("%s: noPTY %v, want %v", name, o.noPTY, c.noPTY)
		}
		want := time.Time{}
		if c.expires != "" {
			want, _ = time.Parse("20060102", c.expires)
		}
		if !o.expires.Equal(want) {
			t.Errorf("%s: expires %v, want %v", name, o.expires, want)
		}
		if (o.from != nil) != c.from {
			t.Errorf("%s: from %v", name, o.from)
		}
	}
}

// from= matching as sshd's match_host_and_ip with UseDNS off (the default): the client's
// address is matched as an address (CIDR) and as a string (wildcards * and ?); a negated
// entry that matches refuses the key wherever it stands; without a positive match the key
// is refused. Host names never match, since the server does not look names up.
func TestFromMatches(t *testing.T) {
	for _, c := range []struct {
		patterns, addr string
		want           bool
	}{
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1", "127.0.0.2", false},
		{"10.0.0.0/8", "10.200.3.4", true},
		{"10.0.0.0/8", "11.0.0.1", false},
		{"192.168.0.0/16,10.0.0.0/8", "10.0.0.1", true},
		{"!10.1.2.3,10.0.0.0/8", "10.1.2.3", false},
		{"10.0.0.0/8,!10.1.2.3", "10.1.2.3", false},
		{"10.0.0.0/8,!10.1.2.3", "10.1.2.4", true},
		{"10.0.0.0/8,!10.1.0.0/16", "10.1.9.9", false},
		{"!10.0.0.1", "10.0.0.2", false},
		{"192.168.1.*", "192.168.1.77", true},
		{"192.168.?.1", "192.168.5.1", true},
		{"192.168.?.1", "192.168.55.1", false},
		{"*", "203.0.113.9", true},
		{"!203.0.113.*,*", "203.0.113.9", false},
		{"*.example.com", "203.0.113.9", false},
		{"2001:db8::/32", "2001:db8::1", true},
		{"2001:DB8::1", "2001:db8::1", true},
		{"2001:db8::*", "2001:db8::1", true},
		{"2001:db8::/32", "2001:db9::1", false},
		{"0.0.0.0/0", "198.51.100.1", true},
		{"::/0", "198.51.100.1", false},
		{"127.0.0.0/8", "::ffff:127.0.0.1", true}, // an IPv4 client on an IPv6 socket
	} {
		f, err := parseFrom(c.patterns)
		if err != nil {
			t.Errorf("%q: %v", c.patterns, err)
			continue
		}
		if got := f.matches(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("from=%q, client %s: %v, want %v", c.patterns, c.addr, got, c.want)
		}
	}
	for _, bad := range []string{"", "a,,b", "!", "10.0.0.1/8", "10.0.0.0/33", "2001:db8::1/32", "10.0.0.0/x"} {
		if _, err := parseFrom(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	for _, c := range []struct {
		pat, s string
		want   bool
	}{
		{"", "", true}, {"", "a", false}, {"*", "", true}, {"a*", "abc", true}, {"*c", "abc", true},
		{"a*c", "ac", true}, {"a?c", "ac", false}, {"a?c", "abc", true}, {"*a*a*", "banana", true},
		{"*x*", "banana", false}, {"a**b", "ab", true}, {"??", "a", false},
	} {
		if got := wildcardMatch(c.pat, c.s); got != c.want {
			t.Errorf("%q ~ %q: %v, want %v", c.pat, c.s, got, c.want)
		}
	}
}
