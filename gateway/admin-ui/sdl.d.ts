// Types of sdl.js (a browser module served as is, so it is plain JavaScript).
export interface SdlField {
  name: string;
  /** As written, e.g. "[Customer!]!". */
  type: string;
  /** As written, e.g. "(first: Int = 10)"; "" without arguments. */
  args: string;
  /** Input fields only; "" without one. */
  defaultValue: string;
  description: string;
  /** As written, e.g. '@requiresScopes(scopes: [["crm:pii"]])'. */
  directives: string[];
}

export interface SdlType {
  kind: 'type' | 'interface' | 'input' | 'enum' | 'union' | 'scalar';
  name: string;
  extend: boolean;
  description: string;
  directives: string[];
  interfaces: string[];
  fields: SdlField[];
  values: Array<{ name: string; description: string; directives: string[] }>;
  members: string[];
}

export function outlineSdl(source: string): SdlType[];
export function contributedFields(types: SdlType[]): Array<{ coordinate: string; type: SdlType; field: SdlField }>;
