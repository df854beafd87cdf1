package serve

import "testing"

// In a classroom the teacher's race reaches every watcher: f forks Dom-SGD, SGD and Bulk-SGD,
// and the student's screen draws the race with the teacher's focus; tab moves it for both.
// A watcher's f is refused like any steering key.
func TestClassroomWatcherSeesTheRace(t *testing.T) {
	teacher := newKey(t)
	ts := startServer(t, func(c *Config, dir string) {
		c.Classroom, c.ControllersPath = true, dir+"/controllers"
		writeKeys(t, c.ControllersPath, teacher.PublicKey())
	})
	writeKeys(t, ts.cfg.AuthorizedKeysPath, ts.user.PublicKey(), teacher.PublicKey())
	sc := openTerm(t, ts.login("student", nil), 120, 40)
	tc := openTerm(t, ts.login("teacher", teacher), 120, 40)
	tc.waitFor("1 watching")
	tc.waitFor("paused")
	sc.send("f")
	sc.waitFor("steering keys are disabled")
	tc.send("f")
	for _, s := range []*term{tc, sc} {
		s.waitFor("race of 3")
		s.waitFor("focus △ Dom")
	}
	tc.send("\t")
	for _, s := range []*term{tc, sc} {
		s.waitFor("focus ◇ SGD")
	}
}
