package cli

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ims-dev/ims/internal/iggy"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{
		"1024": 1024, "1GiB": 1 << 30, "256MiB": 256 << 20, "64kib": 64 << 10, "2GB": 2e9, "10 MB": 10e6, "7B": 7, "1TiB": 1 << 40,
	} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GiB", "-1", "1.5GiB", "1XB", "99999999999999999999", "20000000TiB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

func TestParseExpiry(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"never": 0, "0": 0, "none": 0, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "1h30m": 90 * time.Minute,
	} {
		got, err := parseExpiry(in)
		if err != nil || got != want {
			t.Errorf("parseExpiry(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"soon", "-1h", "1ns", "0d", "d"} {
		if _, err := parseExpiry(in); err == nil {
			t.Errorf("parseExpiry(%q) accepted", in)
		}
	}
}

func TestServerUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"server", "--fsync", "sometimes"},
		{"server", "--fsync-interval", "0s"},
		{"server", "--segment-size", "0"},
		{"server", "--segment-size", "5GiB"},
		{"server", "--segment-size", "lots"},
		{"server", "--max-topic-size", "1KiB"},
		{"server", "--message-expiry", "later"},
		{"server", "--tls-cert", "cert.pem"},
		{"server", "--data-dir", "x", "--in-memory"},
		{"server", "extra"},
	} {
		code, _, errOut := runCLI(t, "", args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, ExitUsage, errOut)
		}
	}
}

// syncBuffer is a bytes.Buffer safe to write from the server's goroutines
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listenRE = regexp.MustCompile(`iggy server listening addr=(\S+)`)

// startServerCmd runs `ims server args...` in-process until the returned
// stop is called; stop returns the exit status.
func startServerCmd(t *testing.T, args ...string) (addr string, logs *syncBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, IO{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: logs}, BuildInfo{Version: "test"},
			append([]string{"server", "--addr", "127.0.0.1:0"}, args...))
	}()
	for deadline := time.Now().Add(20 * time.Second); ; {
		if m := listenRE.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
			break
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("ims server exited with %d: %s", code, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("ims server did not start: %s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { stop() })
	return addr, logs, stop
}

func TestServerCommandServesAndPersists(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("IGGY_ROOT_USERNAME", "admin")
	t.Setenv("IGGY_ROOT_PASSWORD", "s3cret")
	addr, logs, stop := startServerCmd(t, "--data-dir", dir, "--fsync", "always", "--segment-size", "1MiB")
	if strings.Contains(logs.String(), "root credentials not set") {
		t.Errorf("warned about default credentials although they were set: %s", logs.String())
	}
	ctx := context.Background()
	c, err := iggy.DialURL(ctx, "iggy://admin:s3cret@"+addr+"?ping=0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateStream(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if code := stop(); code != ExitOK {
		t.Fatalf("exit %d after cancel: %s", code, logs.String())
	}

	// Without the env the defaults are announced, and the stored root user
	// (not iggy/iggy) is still the one that works.
	t.Setenv("IGGY_ROOT_USERNAME", "")
	t.Setenv("IGGY_ROOT_PASSWORD", "")
	addr, logs, stop = startServerCmd(t, "--data-dir", dir)
	if !strings.Contains(logs.String(), "root credentials not set") {
		t.Errorf("no warning about default credentials: %s", logs.String())
	}
	if _, err := iggy.DialURL(ctx, "iggy://iggy:iggy@"+addr+"?ping=0&retries=-1"); err == nil {
		t.Error("default credentials accepted over a stored root user")
	}
	c, err = iggy.DialURL(ctx, "iggy://admin:s3cret@"+addr+"?ping=0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, found, err := c.Stream(ctx, iggy.Name("kept")); err != nil || !found {
		t.Fatalf("stream lost across restart: %v %v", found, err)
	}
	if code := stop(); code != ExitOK {
		t.Fatalf("exit %d: %s", code, logs.String())
	}
}

// TestServerCommandDataDirInUse runs a second `ims server` on the data
// directory of a running one: it must refuse with a clear error and exit 1,
// leaving the first one serving.
func TestServerCommandDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	addr, _, stop := startServerCmd(t, "--data-dir", dir, "--root-username", "admin", "--root-password", "s3cret")
	code, _, errOut := runCLI(t, "", "server", "--addr", "127.0.0.1:0", "--data-dir", dir)
	if code != ExitError || !strings.Contains(errOut, dir) || !strings.Contains(errOut, "in use by another process") {
		t.Fatalf("second server: exit %d, stderr %q", code, errOut)
	}
	c, err := iggy.DialURL(context.Background(), "iggy://admin:s3cret@"+addr+"?ping=0")
	if err != nil {
		t.Fatalf("first server no longer serving: %v", err)
	}
	c.Close()
	if code := stop(); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
}
