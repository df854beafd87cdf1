package main

import (
	"strings"
	"testing"
)

// serve --web's flags: plain HTTP off loopback needs --insecure-http, TLS needs both files,
// the web flags need --web.
func TestServeWebFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--web", "0.0.0.0:0", "--classroom"}, "--insecure-http"},
		{[]string{"--web", "127.0.0.1:0", "--tls-cert", "c.pem"}, "go together"},
		{[]string{"--open", "--listen", "127.0.0.1:0", "--web-tokens", "t"}, "are for --web"},
		{[]string{"--web", "127.0.0.1:0", "--max-per-link", "-1"}, "--max-per-link -1"},
	} {
		code, _, errOut := runCLI(t, append([]string{"serve"}, c.args...)...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("serve %v: exit %d, %s; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}
