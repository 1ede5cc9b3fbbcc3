/**
 * node-nvidia-smi 1.0.0 ships no types. It runs `nvidia-smi -q -x` through
 * child_process.exec and calls back with an exec error, the stderr text (a
 * string) when nvidia-smi printed anything there, an xml2js parse error, or
 * the parsed document (xml2js, `explicitArray: false, trim: true`).
 */
declare module 'node-nvidia-smi' {
  function nvidiaSmi(callback: (err: unknown, data?: unknown) => void): void;
  export default nvidiaSmi;
}
