package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// freePort returns a TCP port on loopback that nothing listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// childAttr makes a child process die with the orchestrator, even when the
// orchestrator is killed.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// redisServer is the suite's own redis-server, without persistence, on a
// port of its own: the shared Redis on 6379 is never touched.
type redisServer struct {
	port    int
	dir     string
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func startRedis(dir string) (*redisServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &redisServer{port: port, dir: filepath.Join(dir, "redis"), logPath: filepath.Join(dir, "redis.log")}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return nil, err
	}
	return r, r.start()
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *redisServer) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--dir", r.dir, "--logfile", r.logPath, "--daemonize", "no")
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	r.cmd, r.done = cmd, done
	rdb := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server exited at start (see %s)", r.logPath)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server did not answer: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops redis-server with SIGKILL: nothing is saved.
func (r *redisServer) kill() {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// restart kills redis-server and starts an empty one on the same port.
func (r *redisServer) restart() (time.Duration, error) {
	start := time.Now()
	r.kill()
	err := r.start()
	return time.Since(start), err
}

// dbProxy is a TCP proxy in front of PostgreSQL. cut closes every proxied
// connection and refuses new ones for a while, as a network cut would.
type dbProxy struct {
	upstream string
	addr     string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	cut   bool
	total int
	wg    sync.WaitGroup
	// gate is closed while bytes flow; freezeFor replaces it with an open
	// channel, so that every copy waits, as on a network that drops
	// packets (TCP retransmits them later).
	gate chan struct{}
}

func startProxy(upstream string) (*dbProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	open := make(chan struct{})
	close(open)
	p := &dbProxy{upstream: upstream, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}, gate: open}
	p.serve(ln)
	return p, nil
}

func (p *dbProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.handle(c)
		}
	}()
}

// wait blocks while the proxy is frozen.
func (p *dbProxy) wait() {
	p.mu.Lock()
	g := p.gate
	p.mu.Unlock()
	<-g
}

// pump copies src to dst, holding the bytes while the proxy is frozen.
func (p *dbProxy) pump(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *dbProxy) handle(c net.Conn) {
	p.wait()
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	p.mu.Unlock()
	up, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		_ = c.Close()
		_ = up.Close()
		return
	}
	p.conns[c] = struct{}{}
	p.conns[up] = struct{}{}
	p.total++
	p.mu.Unlock()
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			_ = c.Close()
			_ = up.Close()
			p.mu.Lock()
			delete(p.conns, c)
			delete(p.conns, up)
			p.mu.Unlock()
		})
	}
	go func() { p.pump(up, c); closeBoth() }()
	go func() { p.pump(c, up); closeBoth() }()
}

// freezeFor holds every byte in both directions, and every new
// connection, for d: the connections stay open, as in a network partition
// where packets are dropped rather than refused. It returns how many
// connections it froze.
func (p *dbProxy) freezeFor(d time.Duration) int {
	p.mu.Lock()
	gate := make(chan struct{})
	p.gate = gate
	n := len(p.conns) / 2
	p.mu.Unlock()
	time.Sleep(d)
	close(gate)
	return n
}

// cutFor closes every connection, refuses new ones (the port is closed)
// for d, and then accepts again on the same port. It returns how many
// connections it cut.
func (p *dbProxy) cutFor(d time.Duration) (int, error) {
	p.mu.Lock()
	p.cut = true
	ln := p.ln
	p.ln = nil
	n := len(p.conns) / 2
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // a reset, as a broken network gives
		}
		_ = c.Close()
	}
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	time.Sleep(d)
	var nln net.Listener
	var err error
	for range 50 {
		nln, err = net.Listen("tcp", p.addr)
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return n, fmt.Errorf("proxy: listening again on %s: %w", p.addr, err)
	}
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
	p.serve(nln)
	return n, nil
}

func (p *dbProxy) close() {
	p.mu.Lock()
	p.cut = true
	ln := p.ln
	p.ln = nil
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
}

// worker is one worker process, restarted under the same name.
type worker struct {
	name    string
	bin     string
	args    []string
	logPath string
	runs    int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	logf *os.File
}

func (w *worker) start() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, err := os.OpenFile(w.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	w.runs++
	fmt.Fprintf(f, "==== %s start #%d at %s ====\n", w.name, w.runs, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(w.bin, w.args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	w.cmd, w.done, w.logf = cmd, done, f
	return nil
}

func (w *worker) pid() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd == nil || w.cmd.Process == nil {
		return 0
	}
	return w.cmd.Process.Pid
}

func (w *worker) alive() bool {
	w.mu.Lock()
	done := w.done
	w.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL to the worker process alone (not its Chromes: they
// die by themselves, as they would with a real crash) and waits for it.
func (w *worker) kill() {
	w.mu.Lock()
	cmd, done, f := w.cmd, w.done, w.logf
	w.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
	if f != nil {
		fmt.Fprintf(f, "==== %s killed with SIGKILL at %s ====\n", w.name, time.Now().Format(time.RFC3339Nano))
		f.Close()
	}
}

// stop asks the worker to stop (SIGTERM) and kills it after grace.
func (w *worker) stop(grace time.Duration) {
	w.mu.Lock()
	cmd, done, f := w.cmd, w.done, w.logf
	w.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Process.Kill()
		<-done
	}
	if f != nil {
		f.Close()
	}
}

// procInfo is a process found in /proc.
type procInfo struct {
	pid  int
	args []string
}

// processesUnder returns the processes whose command line has
// --user-data-dir=<something under root>.
func processesUnder(root string) []procInfo {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	want := []byte("--user-data-dir=" + root + "/")
	var out []procInfo
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(b, want) {
			continue
		}
		if st, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			// A zombie keeps its command line for a moment.
			if i := bytes.LastIndexByte(st, ')'); i > 0 && i+2 < len(st) && st[i+2] == 'Z' {
				continue
			}
		}
		out = append(out, procInfo{pid: pid, args: strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")})
	}
	return out
}

// chromeMain returns the pid of the main Chrome process (the one without
// --type=) of the profile folder dir, or 0.
func chromeMain(dir string) int {
	for _, p := range processesUnder(filepath.Dir(dir)) {
		mine, child := false, false
		for _, a := range p.args {
			if a == "--user-data-dir="+dir {
				mine = true
			}
			if strings.HasPrefix(a, "--type=") {
				child = true
			}
		}
		if mine && !child {
			return p.pid
		}
	}
	return 0
}

// killAllUnder kills every process that uses a profile under root.
func killAllUnder(root string) int {
	n := 0
	for range 5 {
		ps := processesUnder(root)
		if len(ps) == 0 {
			break
		}
		for _, p := range ps {
			if syscall.Kill(p.pid, syscall.SIGKILL) == nil {
				n++
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return n
}
