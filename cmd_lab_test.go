package main

import (
	"strings"
	"testing"
)

// --race and --race-at: what y shares during a race parses (the lab then stops only for want
// of a terminal), and a race that cannot work is refused as a usage error naming the flag.
func TestLabRaceFlags(t *testing.T) {
	// The command y shares in a race (tui.TestRaceShare draws it).
	shared := "--preset demo --alpha 0.5 --seed 1 --lr 0.1 --race dom,sgd,bulk:lr*2:k=12 --race-at 200"
	if code, _, errOut := runCLI(t, append([]string{"lab"}, strings.Fields(shared)...)...); code != 1 || !strings.Contains(errOut, "needs a terminal") {
		t.Errorf("the shared race command: exit %d, %s", code, errOut)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--race", "dom,nope"}, `--race: arm 2 ("nope")`},
		{[]string{"--race", "dom,dom"}, "--race:"},
		{[]string{"--race", "a,b,c,d,e,f,g"}, "--race:"},
		{[]string{"--race-at", "5"}, "--race-at needs --race"},
		{[]string{"--race", "sgd,bulk", "--race-at", "-1"}, "--race-at -1"},
	} {
		code, _, errOut := runCLI(t, append([]string{"lab"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("lab %s: exit %d, %q; want exit 2 naming %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
}
