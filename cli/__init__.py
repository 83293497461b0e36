"""The `carflow` command line and the embedded dev stack it runs.

`main` is the console script (migrations, accounts, demo data, each process of the stack);
`devrunner` runs the whole stack from the Procfile, `devserver` the Temporal dev server,
`mailsink` the dev SMTP sink, `demo` loads the demonstration data. The top layer: it may
import every other package, none imports it.
"""
