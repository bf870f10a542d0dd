package wardenclient

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// startWarden runs the real binary named by WARDEN_BIN on a free port over a
// fresh SQLite database, and returns its gRPC address once it serves.
func startWarden(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("WARDEN_BIN")
	if bin == "" {
		t.Fatal("WARDEN_BIN must name the warden binary (tests/clients/run.sh sets it)")
	}
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir())
	// A clean environment: nothing from the caller's WARDEN_* or RUST_LOG.
	cmd.Env = []string{"WARDEN_SERVER__DRAIN_DELAY_SECONDS=0"}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() { stop(t, cmd) })

	found := make(chan string, 1)
	go scanForAddress(stdout, found)
	select {
	case addr, ok := <-found:
		if !ok {
			t.Fatal("warden exited before serving")
		}
		return addr
	case <-time.After(60 * time.Second):
		t.Fatal("warden did not serve within a minute")
	}
	return ""
}

// scanForAddress reads JSON log lines until `warden is serving` names the
// address, then keeps draining so the server never blocks on its stdout.
func scanForAddress(stdout io.Reader, found chan<- string) {
	scanner := bufio.NewScanner(stdout)
	sent := false
	for scanner.Scan() {
		var line struct {
			Fields struct {
				Message string `json:"message"`
				Listen  string `json:"listen"`
			} `json:"fields"`
		}
		if !sent && json.Unmarshal(scanner.Bytes(), &line) == nil &&
			line.Fields.Message == "warden is serving" {
			found <- line.Fields.Listen
			sent = true
		}
	}
	if !sent {
		close(found)
	}
}

func stop(t *testing.T, cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("warden did not exit cleanly: %v", err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Error("warden ignored SIGTERM for 30 s")
	}
}
