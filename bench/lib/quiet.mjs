// The SDK's HTTP client transports pass one AbortSignal to every fetch, and undici lets go of its
// listener on that signal only at garbage collection, so a few thousand sequential calls trip Node's
// MaxListenersExceededWarning in the client process. It is client-side and the same for every target;
// hide that one warning and keep the rest.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'MaxListenersExceededWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`);
});
