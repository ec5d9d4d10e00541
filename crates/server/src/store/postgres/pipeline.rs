//! Statements sent together on one transaction's connection, and the error that says why they
//! failed.
//!
//! When one statement of a transaction fails, PostgreSQL answers every statement sent after it
//! with 25P02 ("current transaction is aborted"), which says nothing of the cause.
//! `tokio::try_join!` returns whichever error it polls first, and it rotates its poll order, so
//! a burst of 25P02s could hide the error that caused them (a full disk answered 500 instead of
//! 503). [`pipelined!`] waits for all the statements and returns the cause: the first error that
//! is not 25P02, else the first error.

use crate::error::{Error, Result};

/// Awaits the futures (statements of one transaction, sent together) and gives their values, or
/// the error that caused the failure (see the module). `pipelined!(a, b, c)?`.
macro_rules! pipelined {
    ($($f:expr),+ $(,)?) => {
        $crate::store::postgres::pipeline::Pipelined::cause(tokio::join!(
            $(async { $f.await.map_err($crate::error::Error::from) }),+
        ))
    };
}

/// The results of statements sent together, reduced to their values or to the cause.
pub(crate) trait Pipelined {
    type Values;
    fn cause(self) -> Result<Self::Values>;
}

/// Whether `e` is PostgreSQL's "current transaction is aborted" (an earlier statement failed).
fn aborted(e: &Error) -> bool {
    matches!(e, Error::Postgres(p) if p.code() == Some(&tokio_postgres::error::SqlState::IN_FAILED_SQL_TRANSACTION))
}

/// Which of the errors (in the order the statements were given) to return.
fn pick(errors: &[Option<&Error>]) -> Option<usize> {
    errors
        .iter()
        .position(|e| e.is_some_and(|e| !aborted(e)))
        .or_else(|| errors.iter().position(Option::is_some))
}

macro_rules! impl_pipelined {
    ($($t:ident $v:ident $i:tt),+) => {
        impl<$($t),+> Pipelined for ($(Result<$t>,)+) {
            type Values = ($($t,)+);
            fn cause(self) -> Result<Self::Values> {
                let ($($v,)+) = self;
                let chosen = pick(&[$($v.as_ref().err()),+]);
                $(
                    let $v = match $v {
                        Err(e) if chosen == Some($i) => return Err(e),
                        other => other,
                    };
                )+
                Ok(($($v?,)+))
            }
        }
    };
}

impl_pipelined!(A a 0, B b 1);
impl_pipelined!(A a 0, B b 1, C c 2);
impl_pipelined!(A a 0, B b 1, C c 2, D d 3);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_error_is_the_cause_when_none_says_the_transaction_was_aborted() {
        let results: (Result<u8>, Result<u8>, Result<u8>) = (
            Ok(1),
            Err(Error::Invalid("second".into())),
            Err(Error::Invalid("third".into())),
        );
        match results.cause() {
            Err(Error::Invalid(m)) => assert_eq!(m, "second"),
            other => panic!("the second statement's error: {other:?}"),
        }
        let fine: (Result<u8>, Result<&str>) = (Ok(1), Ok("two"));
        assert_eq!(fine.cause().ok(), Some((1, "two")));
    }
}
