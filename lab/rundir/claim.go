package rundir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A Claim is a run directory this process alone may write: Claim takes a lock on the
// directory before anything is written, so that of two runs started on the same directory
// one writes and the other fails with a clear message.
type Claim struct {
	Dir     string
	created bool     // Claim made the directory
	made    []string // files written under the claim, removed by Abandon
	lock    *dirLock
}

// errBusy is what lockDir returns when another process holds the lock.
var errBusy = errors.New("locked")

// runMarkers are the files that make a directory a sharpflat run.
var runMarkers = []string{"metrics.jsonl", resumeFile}

// ClaimNew claims dir for a new run: it creates it (and its parents), or takes an existing
// empty one. It refuses a directory another sharpflat process is writing, one that holds a
// run, and any other non-empty directory (naming the files in it): a user's own files are
// never overwritten.
func ClaimNew(dir string) (*Claim, error) {
	if err := os.MkdirAll(filepath.Dir(filepath.Clean(dir)), 0o755); err != nil {
		return nil, err
	}
	c := &Claim{Dir: dir}
	switch err := os.Mkdir(dir, 0o755); {
	case err == nil:
		c.created = true
	case errors.Is(err, fs.ErrExist):
		if st, err := os.Stat(dir); err != nil {
			return nil, err
		} else if !st.IsDir() {
			return nil, fmt.Errorf("%s exists and is not a directory", dir)
		}
	default:
		return nil, err
	}
	if err := c.take(); err != nil {
		return nil, err
	}
	names, err := entries(dir)
	if err != nil {
		c.Release()
		return nil, err
	}
	for _, m := range runMarkers {
		if slices.Contains(names, m) {
			c.Release()
			return nil, fmt.Errorf("%s already holds a run (%s exists): choose another directory, or continue it with --resume %s", dir, m, dir)
		}
	}
	if len(names) > 0 {
		c.Release()
		return nil, fmt.Errorf("%s is not empty and is not a sharpflat run (it holds %s): choose a new or empty directory", dir, fileList(names))
	}
	return c, nil
}

// ClaimExisting claims dir, a run directory that exists, to continue it.
func ClaimExisting(dir string) (*Claim, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	c := &Claim{Dir: dir}
	return c, c.take()
}

func (c *Claim) take() error {
	lk, err := lockDir(c.Dir)
	if errors.Is(err, errBusy) {
		return fmt.Errorf("%s is in use by another sharpflat process: wait for it to finish, or choose another directory", c.Dir)
	}
	if err != nil {
		return fmt.Errorf("%s: cannot lock it: %v", c.Dir, err)
	}
	c.lock = lk
	return nil
}

// wrote records a file written under the claim, for Abandon.
func (c *Claim) wrote(name string) {
	if !slices.Contains(c.made, name) {
		c.made = append(c.made, name)
	}
}

// Release gives the directory up, keeping what was written.
func (c *Claim) Release() {
	if c.lock != nil {
		c.lock.unlock()
		c.lock = nil
	}
}

// Abandon removes what was written under the claim, and the directory if the claim made
// it, then releases it: a run that failed before recording anything leaves nothing behind.
func (c *Claim) Abandon() {
	for _, name := range c.made {
		os.Remove(filepath.Join(c.Dir, name))
	}
	if c.created {
		os.Remove(c.Dir) // only if empty: nothing else is lost
	}
	c.Release()
}

func entries(dir string) ([]string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(es))
	for _, e := range es {
		if e.Name() != lockName {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// fileList names up to five files: "a.txt, b.csv and 3 more".
func fileList(names []string) string {
	const show = 5
	if len(names) <= show {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:show], ", "), len(names)-show)
}
