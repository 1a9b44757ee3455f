/* Rust symbol demangling and task-name simplification. */
#ifndef TG_NAMES_H
#define TG_NAMES_H

#include <stdbool.h>

#include "glob.h" /* tg_glob_match: selectors match simplified names */

/* Demangles a legacy (_ZN...) or v0 (_R...) Rust symbol, or a C++ one, without
 * hash suffixes (::h0123456789abcdef) and without .llvm.N suffixes. Returns a
 * malloc'd string; a name that is not mangled is returned copied as it is. */
char *tg_demangle(const char *sym);

/* Removes top-level "::<...>" generic arguments in place, as v0 demangling
 * spells them ("demo::poll::<demo::S>" -> "demo::poll"), so that frame names
 * read the same whatever the mangling; other brackets are kept. */
void tg_strip_turbofish(char *name);

/* Removes "::h<16 hex>" hash segments and [hash] crate disambiguators in place. */
void tg_strip_hashes(char *name);

/* Simplifies a future type name into a task name, the same whichever
 * spelling it came in (DWARF, legacy or v0 symbol: every build of one source
 * names its tasks alike). The name is the function (or method, or type) the
 * future's code was written in; async fn bodies, async blocks and closures
 * add nothing, since legacy symbols call them all an unnumbered {{closure}};
 * generics are dropped, but the user's own code found in a type's generic
 * arguments is shown after it:
 *   demo::process_request::{async_fn_env#0}      -> demo::process_request
 *   demo::process_request::{{closure}}           -> demo::process_request
 *   demo::main::{async_block_env#0}              -> demo::main
 *   demo::main::{{closure}}::{{closure}}         -> demo::main
 *   <demo::Server>::run::{closure#0}             -> demo::Server::run
 *   core::pin::Pin<alloc::boxed::Box<T>>          -> simplified T
 *   tracing::instrument::Instrumented<T>         -> simplified T
 *   tokio::runtime::blocking::task::BlockingTask<F> -> simplified F
 *   hyper::server::conn::http1::Connection<TokioIo<TcpStream>, ServiceFn<demo::handle, Incoming>>
 *                                                -> hyper::server::conn::http1::Connection (demo::handle)
 * (at most three own names, in the order the type spells them). Returns a
 * malloc'd string. */
char *tg_simplify_task_name(const char *type_name);

/* Splits "poll<T, S>" (or any "name<A, B>") at its top-level comma into malloc'd
 * *t and *s. Returns 0, or -EINVAL when the name has not exactly two arguments. */
int tg_split_generic_pair(const char *name, char **t, char **s);

/* True when S names the blocking pool's scheduler (spawn_blocking tasks). */
bool tg_is_blocking_schedule(const char *s_type);

/* True when a frame belongs to the target's own code: not the Rust standard
 * library, not a crate from a registry (cargo's or Debian's), not a system
 * library. FILE may be NULL (no debug info): then FUNCTION's crate decides. */
bool tg_is_own_code(const char *function, const char *file);


#endif
