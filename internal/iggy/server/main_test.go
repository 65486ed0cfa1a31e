package server

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
)

// childEnv makes the test binary run a server instead of the tests: the
// crash test re-executes itself with it so it can kill -9 a real process.
const childEnv = "IMS_TEST_SERVER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(runChildServer(dir))
	}
	os.Exit(m.Run())
}

// childSegmentEnv, when set, is the child server's segment size in bytes.
const childSegmentEnv = "IMS_TEST_SERVER_SEGMENT"

func runChildServer(dir string) int {
	segment := uint64(64 << 10)
	if v, err := strconv.ParseUint(os.Getenv(childSegmentEnv), 10, 64); err == nil && v > 0 {
		segment = v
	}
	srv, err := New(Config{DataDir: dir, Addr: "127.0.0.1:0", Fsync: FsyncAlways, SegmentSize: segment, PasswordCost: 4})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child server:", err)
		return 1
	}
	if err := srv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "child server:", err)
		return 1
	}
	fmt.Printf("ADDR %s\n", srv.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	<-ctx.Done()
	if err := srv.Shutdown(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "child server shutdown:", err)
		return 1
	}
	return 0
}
