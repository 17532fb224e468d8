//! Child process for the crash-consistency test: opens the shop in the given folder and writes
//! through the engine forever, printing what each write did only after its commit returned:
//! a customer (`customer <id>`), and a sale rung up with a line taken off it (`void <cart>
//! <line_no>`) and held (`held <cart>`), and a sale finalized (`invoice <number>`). The parent
//! SIGKILLs it at random moments. It signs in as the owner seat with the passphrase in
//! `GALLA_CRASH_PASSPHRASE`; the shop has a product with the SKU `CRASH`.

use std::io::Write;
use std::sync::Arc;

use galla_client::{
    DataDir, FinalizeRequest, NewCustomer, OsKeychain, PaymentInput, ProductRef, SaleTerms,
    SecretString, SessionToken, SystemClock, Terminal,
};

/// Prints one acknowledged write.
fn ack(line: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_fmt(line);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

fn fail(e: galla_client::Error) -> ! {
    eprintln!("write failed: {e}");
    std::process::exit(3)
}

/// A sale of two lines, the second taken off again (a void), then held.
fn held_sale_with_a_void(t: &Terminal, s: &SessionToken) -> galla_client::Result<()> {
    let crash = ProductRef::Sku("CRASH".into());
    t.add_product_to_cart(s, &crash, 1)?;
    let cart = t.add_product_to_cart(s, &crash, 2)?;
    let line = cart.lines.last().expect("a line was added");
    t.remove_cart_line(s, line.line_id)?;
    ack(format_args!("void {} {}", cart.cart_id, line.line_no));
    let held = t.hold_cart(s)?;
    ack(format_args!("held {}", held.cart_id));
    Ok(())
}

/// A sale of one product, its quantity raised then lowered (a void of one unit), finalized.
fn finalized_sale(t: &Terminal, s: &SessionToken) -> galla_client::Result<()> {
    let cart = t.add_product_to_cart(s, &ProductRef::Sku("CRASH".into()), 1)?;
    let line = cart.lines[0].line_id;
    t.set_line_quantity(s, line, 3)?;
    t.set_line_quantity(s, line, 2)?;
    let due = t.quote_cart(s, &SaleTerms::default())?.total_paise;
    let inv = t.finalize(
        s,
        &FinalizeRequest {
            payments: vec![PaymentInput::Cash {
                amount_paise: due,
                tendered_paise: None,
            }],
            ..Default::default()
        },
    )?;
    ack(format_args!("invoice {}", inv.number));
    Ok(())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(seat)) = (args.next(), args.next()) else {
        eprintln!("usage: galla-crash-writer DATA_DIR OWNER_SEAT_ID");
        std::process::exit(2);
    };
    let seat_id = seat.parse().unwrap_or_else(|e| {
        eprintln!("bad seat id: {e}");
        std::process::exit(2)
    });
    let keychain = OsKeychain::connect().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let t =
        Terminal::open(&DataDir::new(dir), &keychain, Arc::new(SystemClock)).unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        });
    let passphrase = SecretString::new(std::env::var("GALLA_CRASH_PASSPHRASE").unwrap_or_default());
    let owner = match t.sign_in(seat_id, &passphrase, None) {
        Ok(s) => s.token,
        Err(e) => {
            eprintln!("sign-in failed: {e}");
            std::process::exit(2)
        }
    };
    for i in 0u64.. {
        let c = NewCustomer {
            name: format!("Crash customer {i}"),
            phone: Some(format!("9{:09}", i % 1_000_000_000)),
            address: Some("x".repeat((i % 7 * 70) as usize)), // vary the record size
            ..Default::default()
        };
        match t.add_customer(&owner, &c) {
            Ok(id) => ack(format_args!("customer {id}")),
            Err(e) => fail(e),
        }
        let sale = if i % 2 == 0 {
            held_sale_with_a_void(&t, &owner)
        } else {
            finalized_sale(&t, &owner)
        };
        sale.unwrap_or_else(|e| fail(e));
    }
}
