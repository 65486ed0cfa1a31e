package server

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"
)

// Connections arriving while Shutdown starts: each is either refused or
// served and waited for; none is counted after Shutdown began waiting (the
// race detector flags that WaitGroup misuse, and such a connection would
// be served against closed partitions).
func TestShutdownWhileAccepting(t *testing.T) {
	for range 20 {
		srv := startServer(t, Config{})
		addr := srv.Addr()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					c, err := net.DialTimeout("tcp", addr, time.Second)
					if err != nil {
						continue
					}
					_ = c.Close()
				}
			}()
		}
		time.Sleep(time.Millisecond) // let the dialers get going; not synchronisation
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		close(stop)
		wg.Wait()
	}
}
