/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
};

/**
 * A person or company the business sells to. Owned by the crm extension; other
 * extensions contribute fields to it by key.
 */
export type Customer = {
  __typename?: 'Customer';
  /** Contact e-mail, masked but for its last 4 characters; null when the customer has not given one. */
  email?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  name: Scalars['String']['output'];
  /** The customer's orders, oldest first. */
  orders: Array<Order>;
};

export type Order = {
  __typename?: 'Order';
  customer: Customer;
  id: Scalars['ID']['output'];
  items: Array<OrderItem>;
  status: OrderStatus;
  /** Sum of quantity times unit price over the items, rounded to cents. */
  total: Scalars['Float']['output'];
};

export type OrderItem = {
  __typename?: 'OrderItem';
  product: Product;
  quantity: Scalars['Int']['output'];
};

export type OrderStatus =
  | 'CANCELLED'
  | 'PAID'
  | 'PENDING'
  | 'SHIPPED';

/** Something the business sells, with its current stock. */
export type Product = {
  __typename?: 'Product';
  id: Scalars['ID']['output'];
  name: Scalars['String']['output'];
  /** Unit price in the shop's currency, with at most 2 decimals. */
  price: Scalars['Float']['output'];
  /** Units on hand. */
  stock: Scalars['Int']['output'];
};

export type Query = {
  __typename?: 'Query';
  /** One customer, or null if no customer has that id. */
  customer?: Maybe<Customer>;
  /** The first customers in id order. */
  customers: Array<Customer>;
  /** One order, or null if no order has that id. */
  order?: Maybe<Order>;
  /** One product, or null if no product has that id. */
  product?: Maybe<Product>;
  /** The first products in id order. */
  products: Array<Product>;
};


export type QueryCustomerArgs = {
  id: Scalars['ID']['input'];
};


export type QueryCustomersArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};


export type QueryOrderArgs = {
  id: Scalars['ID']['input'];
};


export type QueryProductArgs = {
  id: Scalars['ID']['input'];
};


export type QueryProductsArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};

export type OrderStatus =
  | 'CANCELLED'
  | 'PAID'
  | 'PENDING'
  | 'SHIPPED';

export type CustomerDetailQueryVariables = Exact<{
  id: string | number;
}>;


export type CustomerDetailQuery = { customer: { id: string, name: string, email: string | null, orders: Array<{ id: string, status: OrderStatus, total: number }> } | null };

export type CustomerOrdersQueryVariables = Exact<{ [key: string]: never; }>;


export type CustomerOrdersQuery = { customers: Array<{ id: string, name: string, orders: Array<{ id: string, total: number, items: Array<{ quantity: number, product: { name: string, stock: number } }> }> }> };

export type OrderDetailQueryVariables = Exact<{
  id: string | number;
}>;


export type OrderDetailQuery = { order: { id: string, status: OrderStatus, total: number, customer: { id: string, name: string }, items: Array<{ quantity: number, product: { id: string, name: string, price: number } }> } | null };

export type ProductCatalogQueryVariables = Exact<{
  first?: number | null | undefined;
}>;


export type ProductCatalogQuery = { products: Array<{ id: string, name: string, price: number, stock: number }> };
