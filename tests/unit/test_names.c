/* Demangling and task-name simplification. The symbols and DWARF names are
 * real: taken from examples/target/release/blocking-server (rustc 1.95,
 * tokio 1.24, hyper 0.14) and from a small program built with
 * -C symbol-mangling-version=v0. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "names.h"

static void expect_demangled(const char *sym, const char *want)
{
	char *got = tg_demangle(sym);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void expect_simplified(const char *type, const char *want)
{
	char *got = tg_simplify_task_name(type);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_demangle_legacy(void **state)
{
	expect_demangled("_ZN15blocking_server8burn_cpu17hd2be7e474dd844bfE",
			 "blocking_server::burn_cpu");
	expect_demangled("_ZN5tokio7runtime4task3raw4poll17h01d15d20297e2a48E.llvm.12477968183830397393",
			 "tokio::runtime::task::raw::poll");
	expect_demangled("_ZN15blocking_server10mutex_task28_$u7b$$u7b$closure$u7d$$u7d$17h41590e394220d405E.llvm.1036655732225141441",
			 "blocking_server::mutex_task::{{closure}}");
	/* the name that carries T for tasks when there is no DWARF */
	expect_demangled("_ZN4core3ptr191drop_in_place$LT$tokio..runtime..task..core..Cell$LT$"
			 "blocking_server..cpu_task..$u7b$$u7b$closure$u7d$$u7d$$C$alloc..sync..Arc$LT$"
			 "tokio..runtime..scheduler..current_thread..Handle$GT$$GT$$GT$17hb6091bc8d3b06443E"
			 ".llvm.12477968183830397393",
			 "core::ptr::drop_in_place<tokio::runtime::task::core::Cell<blocking_server::"
			 "cpu_task::{{closure}},alloc::sync::Arc<tokio::runtime::scheduler::current_thread::"
			 "Handle>>>");
	expect_demangled("_ZN116_$LT$hyper..server..server..new_svc..NewSvcTask$LT$I$C$N$C$S$C$E$C$W$GT$"
			 "$u20$as$u20$core..future..future..Future$GT$4poll17h49944855ffe56bceE",
			 "<hyper::server::server::new_svc::NewSvcTask<I,N,S,E,W> as "
			 "core::future::future::Future>::poll");
}

static void test_demangle_v0(void **state)
{
	expect_demangled("_RNvCskK7mfDs1mzF_1m8burn_cpu", "m::burn_cpu");
	expect_demangled("_RNvCskK7mfDs1mzF_1m8burn_cpu.llvm.99", "m::burn_cpu");
	expect_demangled("_RNvNtCsjrHSEGnQ3l9_3std7process5abort", "std::process::abort");
	expect_demangled("_RINvCskK7mfDs1mzF_1m4pollNCNvB2_15process_request0INtNtCslNYArtu3iFV_"
			 "5alloc4sync3ArcNtB2_5SchedEEB2_",
			 "m::poll::<m::process_request::{closure#0}, alloc::sync::Arc<m::Sched>>");
	expect_demangled("_RINvNtCsgEmfK2I1SDS_4core3ptr13drop_in_placeINtNtNtCsjrHSEGnQ3l9_3std4sync"
			 "14reentrant_lock18ReentrantLockGuardINtNtB4_4cell7RefCellINtNtNtNtBN_2io8buffered"
			 "10linewriter10LineWriterNtNtB2c_5stdio9StdoutRawEEEEBN_",
			 "core::ptr::drop_in_place::<std::sync::reentrant_lock::ReentrantLockGuard<"
			 "core::cell::RefCell<std::io::buffered::linewriter::LineWriter<"
			 "std::io::stdio::StdoutRaw>>>>");
}

static void test_demangle_not_rust(void **state)
{
	expect_demangled("main", "main");
	expect_demangled("__GI___libc_write", "__GI___libc_write");
	expect_demangled("memcpy@GLIBC_2.14", "memcpy@GLIBC_2.14");
	expect_demangled("helper.llvm.4242", "helper");
	expect_demangled("_ZNSt6vectorIiSaIiEE9push_backERKi",
			 "std::vector<int, std::allocator<int> >::push_back(int const&)");
	/* looks mangled, is not: returned as it came */
	expect_demangled("_ZN3foo", "_ZN3foo");
	expect_demangled("_Rgarbage", "_Rgarbage");
	assert_null(tg_demangle(NULL));
}

static void test_strip_hashes(void **state)
{
	char legacy[] = "blocking_server::burn_cpu::hd2be7e474dd844bf";
	tg_strip_hashes(legacy);
	assert_string_equal(legacy, "blocking_server::burn_cpu");

	char mid[] = "std::rt::lang_start::{{closure}}::h168e94e611939a97 at x";
	tg_strip_hashes(mid);
	assert_string_equal(mid, "std::rt::lang_start::{{closure}} at x");

	char v0[] = "<std[e28293b1aa0f68bd]::panicking::FormatStringPayload as "
		    "core[c1f1a4ba060b9bfa]::panic::PanicPayload>::take_box";
	tg_strip_hashes(v0);
	assert_string_equal(v0, "<std::panicking::FormatStringPayload as core::panic::PanicPayload>::take_box");

	/* not hashes: too short, too long, arrays and slices */
	char keep[] = "a::hdeadbeef::b::h0123456789abcdef0 <[u8; 16]>::f &[u8] x::hashes";
	tg_strip_hashes(keep);
	assert_string_equal(keep, "a::hdeadbeef::b::h0123456789abcdef0 <[u8; 16]>::f &[u8] x::hashes");
	tg_strip_hashes(NULL);
}

static void test_strip_turbofish(void **state)
{
	char a[] = "m::poll::<m::process_request::{closure#0}, alloc::sync::Arc<m::Sched>>";
	tg_strip_turbofish(a);
	assert_string_equal(a, "m::poll");

	char b[] = "<[addr2line::line::LineSequence]>::sort_by_key::<u64, <x::Y>::f::{closure#1}>::{closure#0}";
	tg_strip_turbofish(b);
	assert_string_equal(b, "<[addr2line::line::LineSequence]>::sort_by_key::{closure#0}");

	/* generics inside a qualified path are not turbofish */
	char c[] = "<alloc::vec::Vec<u8> as core::ops::drop::Drop>::drop";
	tg_strip_turbofish(c);
	assert_string_equal(c, "<alloc::vec::Vec<u8> as core::ops::drop::Drop>::drop");
}

static void test_simplify_async_fn(void **state)
{
	expect_simplified("demo::process_request::{async_fn_env#0}", "demo::process_request");
	expect_simplified("blocking_server::cpu_task::{async_fn_env#0}", "blocking_server::cpu_task");
	/* legacy and v0 symbol spellings of the same future */
	expect_simplified("demo::process_request::{{closure}}", "demo::process_request");
	expect_simplified("blocking_server::cpu_task::{{closure}}", "blocking_server::cpu_task");
	expect_simplified("m::process_request::{closure#0}", "m::process_request");
	/* a generic async fn inside an impl */
	expect_simplified("n::{impl#0}::run::{async_fn_env#0}<u32>", "n::{impl#0}::run");
	expect_simplified("<n::Server<u32>>::run::{closure#0}", "n::Server::run");
	expect_simplified("blocking_server::finish_kind<std::io::error::Error>::{{closure}}",
			  "blocking_server::finish_kind");
}

static void test_simplify_blocks_and_closures(void **state)
{
	/* Legacy symbols spell every async block and closure "{{closure}}",
	 * unnumbered: a name every build can produce keeps none of them. */
	expect_simplified("demo::main::{async_block_env#0}", "demo::main");
	expect_simplified("demo::main::{{closure}}", "demo::main");
	expect_simplified("demo::main::{closure#0}", "demo::main");
	expect_simplified("blocking_server::mutex_ok_task::{async_fn#0}::{async_block_env#0}",
			  "blocking_server::mutex_ok_task");
	expect_simplified("blocking_server::cpu_ok_task::{async_fn#0}::{closure_env#0}",
			  "blocking_server::cpu_ok_task");
	expect_simplified("std::rt::lang_start::{closure_env#0}<()>", "std::rt::lang_start");
	/* #[tokio::main]'s body is an async block too; a closure returning one */
	expect_simplified("names_target::main::{async_block#1}::{closure#1}::{async_block_env#0}",
			  "names_target::main");
	expect_simplified("names_target::main::{{closure}}::{{closure}}::{{closure}}", "names_target::main");
	expect_simplified("names_target::main::{closure#0}::{closure#1}::{closure#0}", "names_target::main");
	/* nothing left to name it by: keep what we had */
	expect_simplified("{{closure}}", "{{closure}}");
}

static void test_simplify_wrappers(void **state)
{
	expect_simplified("core::pin::Pin<alloc::boxed::Box<demo::x::{async_fn_env#0}, alloc::alloc::Global>>",
			  "demo::x");
	expect_simplified("alloc::boxed::Box<demo::x::{async_fn_env#0}, alloc::alloc::Global>", "demo::x");
	expect_simplified("tracing::instrument::Instrumented<demo::y::{async_fn_env#0}>", "demo::y");
	expect_simplified("core::panic::unwind_safe::AssertUnwindSafe<tracing::instrument::WithDispatch<"
			  "core::pin::Pin<alloc::boxed::Box<demo::z::{async_block_env#1}, alloc::alloc::Global>>>>",
			  "demo::z");
	/* v0 symbol spelling */
	expect_simplified("core::pin::Pin<alloc::boxed::Box<m::main::{closure#0}>>", "m::main");
}

static void test_simplify_dyn_and_generics(void **state)
{
	expect_simplified("core::pin::Pin<alloc::boxed::Box<(dyn core::future::future::Future<Output=()> "
			  "+ core::marker::Send + core::marker::Sync), alloc::alloc::Global>>",
			  "dyn Future");
	expect_simplified("core::pin::Pin<alloc::boxed::Box<dyn core::future::future::Future<Output = u8> "
			  "+ core::marker::Send>>",
			  "dyn Future");
	expect_simplified("dyn demo::Job<Output=u8>", "dyn demo::Job");
	expect_simplified("hyper::server::server::new_svc::NewSvcTask<I, N, S, E, W>",
			  "hyper::server::server::new_svc::NewSvcTask");
	/* the real one: a fn pointer type with "->" among the arguments; the
	 * user's code it carries is named after it */
	expect_simplified("hyper::server::server::new_svc::NewSvcTask<hyper::server::tcp::addr_stream::"
			  "AddrStream, blocking_server::serve::{async_fn#0}::{closure#3}::{async_block_env#0}, "
			  "hyper::service::util::ServiceFn<fn(http::request::Request<hyper::body::body::Body>) "
			  "-> blocking_server::handle::{async_fn_env#0}, hyper::body::body::Body>, "
			  "hyper::common::exec::Exec, hyper::server::shutdown::GracefulWatcher>",
			  "hyper::server::server::new_svc::NewSvcTask (blocking_server::serve, blocking_server::handle)");
	/* spawn_blocking work is named by its closure (the site's kind says blocking pool). */
	expect_simplified("tokio::runtime::blocking::task::BlockingTask<blocking_server::cpu_ok_task::"
			  "{async_fn#0}::{closure_env#0}>",
			  "blocking_server::cpu_ok_task");
	expect_simplified("  demo::x::{async_fn_env#0}  ", "demo::x");
	assert_null(tg_simplify_task_name(NULL));
}

/* hyper 1's connection task with a service_fn, as each spelling has it:
 * DWARF writes the fn item as its signature, symbols as its path. */
static void test_simplify_own_code_in_generics(void **state)
{
	static const char *const conn[] = {
		/* DWARF */
		"hyper::server::conn::http1::Connection<hyper_util::rt::tokio::TokioIo<tokio::net::tcp::"
		"stream::TcpStream>, hyper::service::util::ServiceFn<fn(http::request::Request<hyper::body::"
		"incoming::Incoming>) -> names_target::handle::{async_fn_env#0}, hyper::body::incoming::Incoming>>",
		/* legacy drop glue */
		"hyper::server::conn::http1::Connection<hyper_util::rt::tokio::TokioIo<tokio::net::tcp::"
		"stream::TcpStream>,hyper::service::util::ServiceFn<names_target::handle,hyper::body::"
		"incoming::Incoming>>",
		/* v0 */
		"hyper::server::conn::http1::Connection<hyper_util::rt::tokio::TokioIo<tokio::net::tcp::"
		"stream::TcpStream>, hyper::service::util::ServiceFn<names_target::handle, hyper::body::"
		"incoming::Incoming>>",
	};
	for (size_t i = 0; i < sizeof conn / sizeof conn[0]; i++)
		expect_simplified(conn[i], "hyper::server::conn::http1::Connection (names_target::handle)");
	/* a closure as the service: named by where it was written */
	expect_simplified("hyper::server::conn::http1::Connection<X, hyper::service::util::ServiceFn<"
			  "app::main::{async_block#0}::{closure_env#1}, hyper::body::incoming::Incoming>>",
			  "hyper::server::conn::http1::Connection (app::main)");
	/* the user's own wrapper, a library's wrapper around the user's future */
	expect_simplified("names_target::Timed<names_target::ticker::{async_fn_env#0}>",
			  "names_target::Timed (names_target::ticker)");
	expect_simplified("names_target::Timed<names_target::ticker::{{closure}}>",
			  "names_target::Timed (names_target::ticker)");
	expect_simplified("tokio::time::timeout::Timeout<names_target::ticker::{{closure}}>",
			  "tokio::time::timeout::Timeout (names_target::ticker)");
	/* own code deep inside; an own type is named, not looked into; three at most */
	expect_simplified("a::B<core::option::Option<alloc::sync::Arc<app::State<app::Inner>>>>",
			  "a::B (app::State)");
	expect_simplified("a::B<app::x, app::y, app::z, app::w>", "a::B (app::x, app::y, app::z)");
	expect_simplified("a::B<app::x, (u8, app::x)>", "a::B (app::x)");
	/* nothing of the user's: generics simply dropped (axum's router is type-erased) */
	expect_simplified("hyper_util::server::conn::auto::UpgradeableConnection<hyper_util::rt::tokio::"
			  "TokioIo<tokio::net::tcp::stream::TcpStream>, hyper_util::service::glue::"
			  "TowerToHyperService<axum::routing::Router>, hyper_util::rt::tokio::TokioExecutor>",
			  "hyper_util::server::conn::auto::UpgradeableConnection");
	/* a generic async fn's arguments are not in legacy symbols: not shown */
	expect_simplified("names_target::jobs::worker::{async_fn_env#0}<names_target::jobs::Sum>",
			  "names_target::jobs::worker");
	expect_simplified("names_target::jobs::worker<names_target::jobs::Sum>::{{closure}}",
			  "names_target::jobs::worker");
}

/* Methods and trait impls: legacy "m::<impl T for X>", v0 "<X as T>", and
 * DWARF's {impl#N} once poll_sites.c resolved it (to either spelling). */
static void test_simplify_impls(void **state)
{
	expect_simplified("names_target::Counter::run::{{closure}}", "names_target::Counter::run");
	expect_simplified("<names_target::Counter>::run::{closure#0}", "names_target::Counter::run");
	expect_simplified("<names_target::Counter>::run::{async_fn_env#0}", "names_target::Counter::run");
	expect_simplified("tokio::runtime::blocking::task::BlockingTask<tokio::net::addr::<impl tokio::net::"
			  "addr::sealed::ToSocketAddrsPriv for (&str,u16)>::to_socket_addrs::{{closure}}>",
			  "<(&str, u16) as tokio::net::addr::sealed::ToSocketAddrsPriv>::to_socket_addrs");
	expect_simplified("tokio::runtime::blocking::task::BlockingTask<<(&str, u16) as tokio::net::addr::"
			  "sealed::ToSocketAddrsPriv>::to_socket_addrs::{closure_env#0}>",
			  "<(&str, u16) as tokio::net::addr::sealed::ToSocketAddrsPriv>::to_socket_addrs");
	expect_simplified("app::<impl tower_service::Service<http::request::Request<B>> for app::Svc>::call::{{closure}}",
			  "<app::Svc as tower_service::Service>::call");
	expect_simplified("<app::Svc as tower_service::Service<http::request::Request<u8>>>::call::{closure#0}",
			  "<app::Svc as tower_service::Service>::call");
}

static void expect_pair(const char *name, const char *want_t, const char *want_s)
{
	char *t = NULL, *s = NULL;
	assert_int_equal(tg_split_generic_pair(name, &t, &s), 0);
	assert_string_equal(t, want_t);
	assert_string_equal(s, want_s);
	free(t);
	free(s);
}

static void expect_no_pair(const char *name)
{
	char *t = (char *)1, *s = (char *)1;
	assert_int_equal(tg_split_generic_pair(name, &t, &s), -EINVAL);
	assert_null(t);
	assert_null(s);
}

static void test_split_generic_pair(void **state)
{
	expect_pair("poll<demo::handler::{async_fn_env#0}, alloc::sync::Arc<tokio::runtime::scheduler::"
		    "multi_thread::handle::Handle, alloc::alloc::Global>>",
		    "demo::handler::{async_fn_env#0}",
		    "alloc::sync::Arc<tokio::runtime::scheduler::multi_thread::handle::Handle, alloc::alloc::Global>");
	expect_pair("poll<tokio::runtime::blocking::task::BlockingTask<blocking_server::cpu_ok_task::"
		    "{async_fn#0}::{closure_env#0}>, tokio::runtime::blocking::schedule::BlockingSchedule>",
		    "tokio::runtime::blocking::task::BlockingTask<blocking_server::cpu_ok_task::"
		    "{async_fn#0}::{closure_env#0}>",
		    "tokio::runtime::blocking::schedule::BlockingSchedule");
	/* "->", tuples, arrays and braces nest; legacy spelling has no spaces */
	expect_pair("tokio::runtime::task::raw::poll<X<fn(&[u8; 4], (u8, u16)) -> Y<A, B>, {closure#0}>, S<C,D>>",
		    "X<fn(&[u8; 4], (u8, u16)) -> Y<A, B>, {closure#0}>", "S<C,D>");
	expect_pair("core::ptr::drop_in_place<tokio::runtime::task::core::Cell<a::b::{{closure}},"
		    "alloc::sync::Arc<h::Handle>>>::inner<T,U>",
		    "T", "U");
	expect_no_pair("poll<T>");
	expect_no_pair("poll<A, B, C>");
	expect_no_pair("poll");
	expect_no_pair("<X as Y>::poll");
	expect_no_pair("poll<A, B");
	expect_no_pair(NULL);
}

static void test_blocking_schedule(void **state)
{
	assert_true(tg_is_blocking_schedule("tokio::runtime::blocking::schedule::BlockingSchedule"));
	assert_true(tg_is_blocking_schedule("tokio::runtime::blocking::schedule::NoopSchedule"));
	assert_true(tg_is_blocking_schedule("&tokio::runtime::blocking::schedule::BlockingSchedule"));
	assert_true(tg_is_blocking_schedule(" BlockingSchedule "));
	assert_false(tg_is_blocking_schedule("alloc::sync::Arc<tokio::runtime::scheduler::multi_thread::"
					     "handle::Handle, alloc::alloc::Global>"));
	assert_false(tg_is_blocking_schedule("alloc::sync::Arc<tokio::runtime::scheduler::current_thread::Handle>"));
	assert_false(tg_is_blocking_schedule("demo::NotBlockingSchedule"));
	assert_false(tg_is_blocking_schedule("alloc::sync::Arc<x::BlockingSchedule>"));
	assert_false(tg_is_blocking_schedule(""));
	assert_false(tg_is_blocking_schedule(NULL));
}

static void test_own_code_by_path(void **state)
{
	const char *fn = "blocking_server::burn_cpu";
	assert_false(tg_is_own_code(fn, "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/thread/mod.rs"));
	assert_false(tg_is_own_code(fn, "/rust/deps/memchr-2.7.6/src/lib.rs"));
	assert_false(tg_is_own_code(fn, "/root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/"
				       "tokio-1.40.0/src/runtime/task/raw.rs"));
	assert_false(tg_is_own_code(fn, "/usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/"
				       "hyper-0.14.30/src/proto/h1/dispatch.rs"));
	assert_false(tg_is_own_code(fn, "/root/.cargo/git/checkouts/tokio-12ab/0123abc/tokio/src/lib.rs"));
	assert_false(tg_is_own_code(fn, "/usr/share/cargo/registry/tokio-1.24.2/src/runtime/blocking/pool.rs"));
	assert_false(tg_is_own_code(fn, "/home/u/proj/vendor/bytes/src/bytes.rs"));
	assert_false(tg_is_own_code(fn, "/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/"
				       "rustlib/src/rust/library/core/src/ptr/mod.rs"));
	assert_false(tg_is_own_code(fn, "<built-in>"));
	assert_true(tg_is_own_code(fn, "/home/u/proj/src/main.rs"));
	assert_true(tg_is_own_code(fn, "/work/main/examples/blocking-server/src/main.rs"));
	/* a library crate of the target's own workspace */
	assert_true(tg_is_own_code("blocking_kinds::burn_cpu", "/work/main/examples/blocking-kinds/src/lib.rs"));
	assert_true(tg_is_own_code("blocking_kinds::burn_cpu", "blocking-kinds/src/lib.rs"));
	assert_true(tg_is_own_code(fn, "src/main.rs"));
	/* the file decides, whatever the function says */
	assert_false(tg_is_own_code("demo::f", "/rustc/0123456789012345678901234567890123456789/library/core/src/iter.rs"));
	assert_true(tg_is_own_code("core::iter::traits::iterator::Iterator::fold", "/home/u/proj/src/lib.rs"));
}

static void test_own_code_by_function(void **state)
{
	assert_true(tg_is_own_code("blocking_server::burn_cpu", NULL));
	assert_true(tg_is_own_code("blocking_kinds::burn_cpu", NULL));
	assert_true(tg_is_own_code("demo::main::{{closure}}", ""));
	assert_true(tg_is_own_code("<demo::Job as core::future::future::Future>::poll", NULL));
	assert_false(tg_is_own_code("std::thread::sleep", NULL));
	assert_false(tg_is_own_code("core::ptr::drop_in_place<x::Y>", NULL));
	assert_false(tg_is_own_code("alloc::raw_vec::finish_grow", NULL));
	assert_false(tg_is_own_code("hashbrown::raw::RawTable::reserve_rehash", NULL));
	assert_false(tg_is_own_code("tokio::runtime::task::raw::poll", NULL));
	assert_false(tg_is_own_code("<tokio::time::sleep::Sleep as core::future::future::Future>::poll", NULL));
	assert_false(tg_is_own_code("<&mut F as core::ops::function::FnOnce<A>>::call_once", NULL));
	assert_false(tg_is_own_code("hyper::proto::h1::dispatch::Dispatcher::poll_loop", NULL));
	/* libc and other C symbols, and names we know nothing about */
	assert_false(tg_is_own_code("__GI___libc_write", NULL));
	assert_false(tg_is_own_code("pthread_mutex_lock", NULL));
	assert_false(tg_is_own_code("main", NULL));
	assert_false(tg_is_own_code("[unknown] (libc.so.6+0x1234)", NULL));
	assert_false(tg_is_own_code(NULL, NULL));
}

static void test_glob(void **state)
{
	assert_true(tg_glob_match("demo_server::*", "demo_server::process_request"));
	assert_true(tg_glob_match("demo_server::process_request", "demo_server::process_request"));
	assert_true(tg_glob_match("*::compute_?ash", "demo::compute_hash"));
	assert_true(tg_glob_match("ring::pbkdf2::*", "ring::pbkdf2::derive"));
	assert_true(tg_glob_match("*", ""));
	assert_true(tg_glob_match("**a*", "xxa"));
	assert_true(tg_glob_match("a*b*c", "a-b-b-c"));
	assert_true(tg_glob_match("demo::main::{async_block#?}", "demo::main::{async_block#0}"));
	assert_true(tg_glob_match("hyper::*(my_app::handle)", "hyper::server::conn::http1::Connection (my_app::handle)"));
	assert_false(tg_glob_match("demo_server::*", "demo::process_request"));
	assert_false(tg_glob_match("demo", "demo_server"));
	assert_false(tg_glob_match("?", ""));
	assert_false(tg_glob_match("a*b*c", "a-b-b-"));
	assert_false(tg_glob_match(NULL, "x"));
	assert_false(tg_glob_match("x", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demangle_legacy),
		cmocka_unit_test(test_demangle_v0),
		cmocka_unit_test(test_demangle_not_rust),
		cmocka_unit_test(test_strip_hashes),
		cmocka_unit_test(test_strip_turbofish),
		cmocka_unit_test(test_simplify_async_fn),
		cmocka_unit_test(test_simplify_blocks_and_closures),
		cmocka_unit_test(test_simplify_wrappers),
		cmocka_unit_test(test_simplify_dyn_and_generics),
		cmocka_unit_test(test_simplify_own_code_in_generics),
		cmocka_unit_test(test_simplify_impls),
		cmocka_unit_test(test_split_generic_pair),
		cmocka_unit_test(test_blocking_schedule),
		cmocka_unit_test(test_own_code_by_path),
		cmocka_unit_test(test_own_code_by_function),
		cmocka_unit_test(test_glob),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
