export * from './dto.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './routes.ts';
export * from './validate.ts';
export * from './transport.ts';
