// One case per declared option schema: `call(options)` calls the function (or constructs the
// class) with valid arguments and the given options object. The options test calls every case
// with an unknown key, a misspelt key and no options, and checks that every schema has a case.
export interface OptionCase {
  /** the schema's name (the `fn` given to options()), e.g. 'sum', 'nn.Linear', 'optim.Adam' */
  name: string;
  call: (options: any) => unknown;
  /** call returns a promise (init): its rejection is the error */
  async?: boolean;
}
