//! The fault proxy the sync chaos test relies on: it passes traffic untouched when told to,
//! refuses and cuts connections when told to, and its decisions replay exactly from a seed.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use galla_tests::fault_proxy::{Fate, FaultProxy, Faults, Plan};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ANSWER_BYTES: usize = 64 * 1024;

/// A server that answers each line it reads with 64 KiB and closes.
async fn upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut byte = [0u8; 1];
                while conn.read_exact(&mut byte).await.is_ok() && byte[0] != b'\n' {}
                let _ = conn.write_all(&vec![b'x'; ANSWER_BYTES]).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    addr
}

/// Sends one request through `addr`; how many answer bytes arrived before the end.
async fn ask(addr: SocketAddr) -> usize {
    let Ok(mut conn) = TcpStream::connect(addr).await else {
        return 0;
    };
    if conn.write_all(b"hello\n").await.is_err() {
        return 0;
    }
    let mut got = Vec::new();
    let _ = conn.read_to_end(&mut got).await;
    got.len()
}

#[tokio::test]
async fn clean_traffic_passes_whole_and_faults_refuse_or_cut_it() {
    let server = upstream().await;
    let clean = FaultProxy::start(server, Plan::new(1, Faults::default()))
        .await
        .unwrap();
    for _ in 0..5 {
        assert_eq!(ask(clean.addr).await, ANSWER_BYTES);
    }

    let refusing = FaultProxy::start(
        server,
        Plan::new(
            1,
            Faults {
                refuse_per_mille: 1000,
                ..Faults::default()
            },
        ),
    )
    .await
    .unwrap();
    assert_eq!(ask(refusing.addr).await, 0);
    assert_eq!(refusing.tally.refused.load(Ordering::Relaxed), 1);

    let cutting = FaultProxy::start(
        server,
        Plan::new(
            1,
            Faults {
                cut_response_per_mille: 1000,
                max_delay_ms: 2,
                ..Faults::default()
            },
        ),
    )
    .await
    .unwrap();
    for _ in 0..5 {
        assert!(
            ask(cutting.addr).await < ANSWER_BYTES,
            "the answer is cut short"
        );
    }
    assert_eq!(cutting.tally.cut.load(Ordering::Relaxed), 5);
}

#[tokio::test]
async fn a_seed_replays_the_same_faults() {
    let faults = Faults {
        refuse_per_mille: 250,
        cut_response_per_mille: 250,
        max_delay_ms: 5,
    };
    let fates = |seed| {
        let mut plan = Plan::new(seed, faults);
        (0..200).map(|_| plan.next_fate()).collect::<Vec<_>>()
    };
    assert_eq!(fates(42), fates(42));
    assert_ne!(fates(42), fates(43));
    let kinds = fates(42);
    for want in [Fate::Refuse, Fate::Pass] {
        assert!(kinds.iter().any(|(f, _)| *f == want), "{want:?} occurs");
    }
    assert!(kinds.iter().any(|(f, _)| matches!(f, Fate::CutAfter(_))));

    // The running proxy follows the plan: its tally is what the seed predicts.
    let server = upstream().await;
    let proxy = FaultProxy::start(server, Plan::new(42, faults))
        .await
        .unwrap();
    let mut whole = 0;
    for _ in 0..40 {
        if ask(proxy.addr).await == ANSWER_BYTES {
            whole += 1;
        }
    }
    let first_40 = &kinds[..40];
    let count =
        |pred: &dyn Fn(&Fate) -> bool| first_40.iter().filter(|(f, _)| pred(f)).count() as u64;
    assert_eq!(
        proxy.tally.refused.load(Ordering::Relaxed),
        count(&|f| *f == Fate::Refuse)
    );
    assert_eq!(
        proxy.tally.cut.load(Ordering::Relaxed),
        count(&|f| matches!(f, Fate::CutAfter(_)))
    );
    assert_eq!(whole, count(&|f| *f == Fate::Pass));
}
