//! The standard library's closure on a small stdlib: each import form the
//! interpreter acts on keeps what it imports, and nothing else is kept.

use serde_json::json;

use crate::keep::KeepSet;
use crate::testutil::LayerBuilder;
use crate::trace::runtime::tests::{assert_dropped, assert_kept, exe, trace};
use crate::trace::TraceOptions;

const LIB: &str = "usr/lib/python3.11";

/// A stdlib whose modules each stand for one way of being imported.
fn stdlib() -> LayerBuilder {
    let modules: &[(&str, &str)] = &[
        // Startup.
        ("os.py", "import abc\nimport stat\nimport posixpath\n"),
        ("abc.py", ""),
        ("stat.py", ""),
        ("posixpath.py", "import genericpath\n"),
        ("genericpath.py", ""),
        ("site.py", "import os\ndef enablerlcompleter():\n    import rlcompleter\n"),
        ("rlcompleter.py", ""),
        ("codecs.py", ""),
        ("io.py", ""),
        ("copyreg.py", ""),
        ("traceback.py", "import linecache\n"),
        ("linecache.py", ""),
        ("warnings.py", ""),
        ("encodings/__init__.py", "import codecs\nfrom . import aliases\ndef search(name):\n    return __import__('encodings.' + name)\n"),
        ("encodings/aliases.py", "aliases = {\n    'latin1'             : 'latin_1',\n    'u8'                 : 'utf_8',\n}\n"),
        ("encodings/utf_8.py", ""),
        ("encodings/latin_1.py", ""),
        ("encodings/cp1252.py", ""),
        ("encodings/koi8_r.py", ""),
        // Imported by the app in each way.
        ("json/__init__.py", "from .decoder import JSONDecoder\nfrom json import encoder\n"),
        ("json/decoder.py", "import re\n"),
        ("json/encoder.py", "try:\n    from _json import make_encoder\nexcept ImportError:\n    make_encoder = None\n"),
        ("json/tool.py", "import argparse\n"),
        ("re.py", ""),
        ("argparse.py", ""),
        ("csv.py", "import io\nif __name__ == '__main__':\n    import doctest\n"),
        ("doctest.py", "import unittest\n"),
        ("unittest/__init__.py", ""),
        ("decimal.py", "try:\n    from _decimal import *\nexcept ImportError:\n    from _pydecimal import *\n"),
        ("_pydecimal.py", "import numbers\n"),
        ("numbers.py", ""),
        ("fractions.py", "import decimal\n"),
        ("pickle.py", "from copyreg import dispatch_table\n"),
        ("plugin_only.py", ""),
        ("dbm/__init__.py", "_names = ['dbm.gnu', 'dbm.dumb']\ndef open(f):\n    for name in _names:\n        mod = __import__(name)\n"),
        ("dbm/gnu.py", "from _gdbm import *\n"),
        ("dbm/dumb.py", "import os\n"),
        ("_compat_pickle.py", "IMPORT_MAPPING = {'dbhash': 'dbm.gnu', 'httplib': 'http.client'}\n"),
        ("http/__init__.py", ""),
        ("http/client.py", "import email\n"),
        ("sqlite3/__init__.py", "from sqlite3.dbapi2 import *\n"),
        ("sqlite3/dbapi2.py", "from _sqlite3 import *\n"),
        ("sqlite3/dump.py", ""),
        ("functools.py", ""),
        ("venv/__init__.py", "import os\n"),
        ("venv/scripts/common/activate", "# activate\n"),
        ("venv/__pycache__/__init__.cpython-311.pyc", "pyc"),
        ("email/__init__.py", ""),
        ("xml/__init__.py", ""),
        ("email/charset.py", "CHARSETS = {'koi8-r': 1}\ndef convert(s, charset):\n    return s.encode(charset)\n"),
        ("metadata_reader.py", "import email.charset\n"),
        ("detect.py", "def detect(b):\n    enc = 'koi8-r' if b[:1] == b'\\xd0' else 'utf-8'\n    return b.decode(enc)\n"),
        ("test/support/__init__.py", ""),
        ("pydoc.py", "import email\n"),
        ("unused_module.py", ""),
        ("__pycache__/json_unrelated.cpython-311.pyc", "pyc"),
        ("__pycache__/unused_module.cpython-311.pyc", "pyc"),
        ("__pycache__/csv.cpython-311.pyc", "pyc"),
        ("__pycache__/csv.cpython-39.pyc", "old"),
        ("__pycache__/csv.cpython-311.opt-1.pyc", "pyc"),
        ("encodings/__pycache__/cp1252.cpython-311.pyc", "pyc"),
        ("encodings/__pycache__/koi8_r.cpython-311.pyc", "pyc"),
    ];
    let mut l = exe(
        LayerBuilder::new(),
        "usr/bin/python3.11",
        b"not really python",
    );
    for (path, text) in modules {
        l = l.file(&format!("{LIB}/{path}"), text.as_bytes());
    }
    for so in ["_sqlite3", "_decimal", "_json", "_gdbm", "readline"] {
        l = l.file(
            &format!("{LIB}/lib-dynload/{so}.cpython-311-x86_64-linux-gnu.so"),
            b"not really an extension",
        );
    }
    l
}

fn slim(app: &str) -> KeepSet {
    let l = stdlib().file("app/main.py", app.as_bytes());
    let config = json!({"config": {"Cmd": ["/usr/bin/python3.11", "/app/main.py"]}});
    trace(l, config, TraceOptions::new()).0
}

fn lib(paths: &[&str]) -> Vec<String> {
    paths.iter().map(|p| format!("{LIB}/{p}")).collect()
}

fn kept(keep: &KeepSet, paths: &[&str]) {
    let paths = lib(paths);
    assert_kept(keep, &paths.iter().map(String::as_str).collect::<Vec<_>>());
}

fn dropped(keep: &KeepSet, paths: &[&str]) {
    let paths = lib(paths);
    assert_dropped(keep, &paths.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn the_interpreters_startup_is_kept_and_unimported_modules_are_not() {
    let keep = slim("print('hi')\n");
    kept(
        &keep,
        &["site.py", "os.py", "posixpath.py", "genericpath.py"],
    );
    // site.py's interactive hook imports a tool: no line editing.
    dropped(&keep, &["rlcompleter.py"]);
    kept(
        &keep,
        &[
            "encodings/__init__.py",
            "encodings/utf_8.py",
            "traceback.py",
        ],
    );
    // No code names another codec.
    dropped(&keep, &["encodings/koi8_r.py", "encodings/cp1252.py"]);
    dropped(&keep, &["json/__init__.py", "unused_module.py", "csv.py"]);
    dropped(
        &keep,
        &[
            "__pycache__/unused_module.cpython-311.pyc",
            "test/support/__init__.py",
        ],
    );
}

#[test]
fn imports_wherever_they_may_run_and_their_packages() {
    let keep = slim(
        "import json.tool\n\
         def later():\n    import csv\n\
         if False:\n    import fractions\n\
         def plugin():\n    return __import__('plugin_only')\n",
    );
    kept(
        &keep,
        &[
            "json/__init__.py",
            "json/decoder.py",
            "json/encoder.py",
            "json/tool.py",
        ],
    );
    kept(
        &keep,
        &["re.py", "argparse.py", "csv.py", "io.py", "plugin_only.py"],
    );
    // A conditional import that may run, and what it imports in turn.
    kept(&keep, &["fractions.py", "decimal.py"]);
    // `_decimal` is there, so the fallback to `_pydecimal` never runs.
    dropped(&keep, &["_pydecimal.py"]);
    kept(
        &keep,
        &["lib-dynload/_decimal.cpython-311-x86_64-linux-gnu.so"],
    );
    // A module's self-test under `if __name__ == '__main__':` never runs on import.
    dropped(&keep, &["doctest.py", "unittest/__init__.py"]);
    // Compiled forms of kept modules, for this interpreter only.
    kept(
        &keep,
        &[
            "__pycache__/csv.cpython-311.pyc",
            "__pycache__/csv.cpython-311.opt-1.pyc",
        ],
    );
    dropped(&keep, &["__pycache__/csv.cpython-39.pyc"]);
}

#[test]
fn names_built_or_written_as_strings_and_codecs_named_by_the_code() {
    let keep = slim(
        "import importlib, dbm, pickle\n\
         importlib.import_module('sqlite3')\n\
         data = b'x'.decode('cp1252')\n\
         open('/etc/hosts', encoding='latin1')\n",
    );
    // `import_module` with a literal; then `_sqlite3`'s own import of `sqlite3.dump`.
    kept(
        &keep,
        &[
            "sqlite3/__init__.py",
            "sqlite3/dbapi2.py",
            "sqlite3/dump.py",
            "functools.py",
        ],
    );
    kept(
        &keep,
        &["lib-dynload/_sqlite3.cpython-311-x86_64-linux-gnu.so"],
    );
    // dbm imports its backends by the names in its list.
    kept(
        &keep,
        &[
            "dbm/gnu.py",
            "dbm/dumb.py",
            "lib-dynload/_gdbm.cpython-311-x86_64-linux-gnu.so",
        ],
    );
    // _compat_pickle's table imports nothing itself: http.client stays out.
    dropped(&keep, &["http/client.py", "email/__init__.py"]);
    // A codec named by the code is imported: its compiled form is kept.
    kept(
        &keep,
        &[
            "encodings/__pycache__/cp1252.cpython-311.pyc",
            "encodings/latin_1.py",
        ],
    );
    dropped(&keep, &["encodings/__pycache__/koi8_r.cpython-311.pyc"]);
}

#[test]
fn package_data_and_tools_the_stdlib_only_imports_for_itself() {
    let keep = slim("import venv\n");
    kept(&keep, &["venv/__init__.py", "venv/scripts/common/activate"]);
    kept(&keep, &["venv/__pycache__/__init__.cpython-311.pyc"]);
    // pydoc (help()) is a tool: the stdlib's own import of it keeps nothing.
    dropped(&keep, &["pydoc.py"]);
    let keep = slim("import pydoc\n");
    kept(&keep, &["pydoc.py", "email/__init__.py"]);
}

#[test]
fn no_import_graph_keeps_the_whole_standard_library() {
    let l = stdlib().file("app/main.py", b"print('hi')\n");
    let config = json!({"config": {"Cmd": ["/usr/bin/python3.11", "/app/main.py"]}});
    let mut opts = TraceOptions::new();
    opts.import_graph = false;
    let keep = trace(l, config, opts).0;
    kept(
        &keep,
        &[
            "json/tool.py",
            "unused_module.py",
            "__pycache__/unused_module.cpython-311.pyc",
        ],
    );
    dropped(&keep, &["test/support/__init__.py"]);
}

#[test]
fn the_locales_codec_is_imported_at_startup() {
    let l = stdlib().file("app/main.py", b"print('hi')\n");
    let config = json!({"config": {
        "Cmd": ["/usr/bin/python3.11", "/app/main.py"],
        "Env": ["LANG=ru_RU.KOI8-R"],
    }});
    let keep = trace(l, config, TraceOptions::new()).0;
    // Imported, so with its compiled form: the standard streams use it.
    kept(&keep, &["encodings/__pycache__/koi8_r.cpython-311.pyc"]);
    dropped(&keep, &["encodings/__pycache__/cp1252.cpython-311.pyc"]);
}

#[test]
fn codecs_are_kept_as_the_code_names_them() {
    // No codec named: only the interpreter's own.
    let keep = slim("print('hi')\n");
    kept(&keep, &["encodings/utf_8.py", "encodings/latin_1.py"]);
    dropped(&keep, &["encodings/koi8_r.py", "encodings/cp1252.py"]);
    // A name computed by the app: data may name any codec, each kept
    // (sources only: no evidence imports one).
    let keep = slim("import sys\nprint(sys.stdin.buffer.read().decode(sys.argv[1]))\n");
    kept(&keep, &["encodings/koi8_r.py", "encodings/cp1252.py"]);
    dropped(&keep, &["encodings/__pycache__/koi8_r.cpython-311.pyc"]);
    let keep = slim("def read(p, enc):\n    return open(p, encoding=enc).read()\n");
    kept(&keep, &["encodings/koi8_r.py"]);
    // `encoding=None` names none (the locale's).
    let keep = slim("open('/etc/hosts', encoding=None)\n");
    dropped(&keep, &["encodings/koi8_r.py"]);
    // A standard module that decodes by a name its input gives.
    let keep = slim("import xml\n");
    kept(&keep, &["encodings/koi8_r.py", "encodings/cp1252.py"]);
    // A standard module computing a name from its own strings: those.
    let keep = slim("import detect\n");
    kept(&keep, &["detect.py", "encodings/koi8_r.py"]);
    dropped(&keep, &["encodings/cp1252.py"]);
    // A module that decodes by a name its input gives, reached only
    // through the standard library: given the library's own files, its
    // table of charsets keeps nothing.
    let keep = slim("import metadata_reader\n");
    kept(&keep, &["email/charset.py"]);
    dropped(&keep, &["encodings/koi8_r.py"]);
    let keep = slim("import email.charset\n");
    kept(&keep, &["encodings/koi8_r.py", "encodings/cp1252.py"]);
    // A source's coding cookie: the interpreter decodes it with that codec.
    let keep = slim("# -*- coding: cp1252 -*-\nprint('caf\u{e9}')\n");
    kept(&keep, &["encodings/cp1252.py"]);
    dropped(&keep, &["encodings/koi8_r.py"]);
}
