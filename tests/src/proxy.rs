//! A loopback TCP proxy that can cut its connections, to play a database server that goes
//! away and comes back without touching the server other tests share.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// Forwards `127.0.0.1:port` to an upstream port until dropped.
pub struct TcpProxy {
    pub port: u16,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    down: AtomicBool,
    stopped: AtomicBool,
    open: Mutex<Vec<TcpStream>>,
}

impl TcpProxy {
    pub fn start(upstream_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let shared = Arc::new(Shared::default());
        let accepting = Arc::clone(&shared);
        thread::spawn(move || {
            for client in listener.incoming() {
                if accepting.stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                if accepting.down.load(Ordering::SeqCst) {
                    // A server that is gone: the connection closes at once.
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let _ = forward(client, upstream_port, &accepting);
            }
        });
        Self { port, shared }
    }

    /// The server goes away: open connections break, new ones are closed at once.
    pub fn cut(&self) {
        self.shared.down.store(true, Ordering::SeqCst);
        for stream in self.shared.open.lock().expect("proxy lock").drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// The server is back.
    pub fn restore(&self) {
        self.shared.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        self.shared.stopped.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so it sees the stop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn forward(client: TcpStream, upstream_port: u16, shared: &Arc<Shared>) -> io::Result<()> {
    let upstream = TcpStream::connect(("127.0.0.1", upstream_port))?;
    // Small protocol messages must not wait for more to fill a packet.
    upstream.set_nodelay(true)?;
    client.set_nodelay(true)?;
    {
        let mut open = shared.open.lock().expect("proxy lock");
        open.push(client.try_clone()?);
        open.push(upstream.try_clone()?);
    }
    for (mut from, mut to) in [
        (client.try_clone()?, upstream.try_clone()?),
        (upstream, client),
    ] {
        thread::spawn(move || {
            let mut buffer = [0_u8; 16 * 1024];
            while let Ok(read) = from.read(&mut buffer) {
                if read == 0 || to.write_all(&buffer[..read]).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(Shutdown::Both);
        });
    }
    Ok(())
}
