//go:build unix

package rundir

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// WaitLock excludes: while one holder has the lock, another cannot take it (a cancelled wait
// fails); once it is released, the waiter gets it.
func TestWaitLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	unlock, err := WaitLock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if u, err := WaitLock(cancelled, path); err == nil {
		u()
		t.Fatal("a second holder took the lock while the first held it")
	}
	got := make(chan error)
	go func() {
		u, err := WaitLock(context.Background(), path)
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("the waiter did not get the released lock: %v", err)
	}
}

// TestWaitLockHelperProcess is the process TestWaitLockSurvivesAKilledHolder kills: it takes
// the lock, says so, and holds it until killed.
func TestWaitLockHelperProcess(t *testing.T) {
	path := os.Getenv("SHARPFLAT_WAITLOCK_HELPER")
	if path == "" {
		t.Skip("the helper process of TestWaitLockSurvivesAKilledHolder")
	}
	if _, err := WaitLock(context.Background(), path); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin) // until killed
	os.Exit(0)
}

// The lock of a process killed with SIGKILL (a cancelled cluster task) does not block the
// next task: the kernel drops a flock with its holder. (A wait that never ends here is caught
// by go test's own timeout, the package's hang guard; nothing is timed.)
func TestWaitLockSurvivesAKilledHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	helper := exec.Command(os.Args[0], "-test.run=^TestWaitLockHelperProcess$")
	helper.Env = append(os.Environ(), "SHARPFLAT_WAITLOCK_HELPER="+path)
	stdin, err := helper.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		helper.Process.Kill()
		helper.Wait()
		t.Fatalf("the helper did not take the lock: %q %v", line, err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if u, err := WaitLock(cancelled, path); err == nil {
		u()
		t.Fatal("the lock was free while the helper held it")
	}
	helper.Process.Kill()
	helper.Wait()
	unlock, err := WaitLock(context.Background(), path)
	if err != nil {
		t.Fatalf("after its holder was killed: %v", err)
	}
	unlock()
}
